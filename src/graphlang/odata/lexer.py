"""Tokens of the OData expression syntax used by ``$filter`` and ``$orderby``.

Positions are zero-based character offsets into the option's value, as OData's own error messages
count them. Literals are converted here (``''`` unescaped, datetimes to ticks), so a malformed
literal is reported at the position where it starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum

from graphlang.errors import BadRequest
from graphlang.model.timestamps import ticks_from_datetime


class T(Enum):
    NAME = "name"  # identifiers and keywords (eq, and, not, true, null, asc, ...)
    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    ENUM = "enum"  # qualified.Type'member'
    OPEN = "'('"
    CLOSE = "')'"
    COMMA = "','"
    SLASH = "'/'"
    END = "end of input"


@dataclass(frozen=True, slots=True)
class Token:
    kind: T
    text: str  # as written, for error messages
    position: int
    value: object = None


def syntax_error(option: str, source: str, position: int, problem: str) -> BadRequest:
    return BadRequest(f"Syntax error in {option} at position {position} of '{source}': {problem}.")


def describe(token: Token) -> str:
    return "end of input" if token.kind is T.END else f"'{token.text}'"


_WHITESPACE = re.compile(r"\s+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?(Z|[+-]\d{2}:\d{2})",
    re.IGNORECASE,
)
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNENCODED_PLUS = re.compile(r"\d{4}-\d{2}-\d{2}T[\d:.]+ \d{2}:\d{2}")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_PUNCTUATION = {"(": T.OPEN, ")": T.CLOSE, ",": T.COMMA, "/": T.SLASH}


class Lexer:
    def __init__(self, source: str, option: str) -> None:
        self.source = source
        self.option = option

    def error(self, position: int, problem: str) -> BadRequest:
        return syntax_error(self.option, self.source, position, problem)

    def tokens(self) -> list[Token]:
        found: list[Token] = []
        text, at = self.source, 0
        while True:
            space = _WHITESPACE.match(text, at)
            if space:
                at = space.end()
            if at >= len(text):
                found.append(Token(T.END, "", at))
                return found
            token = self._next(at)
            found.append(token)
            at += len(token.text)

    def _next(self, at: int) -> Token:
        text = self.source
        char = text[at]
        if char in _PUNCTUATION:
            return Token(_PUNCTUATION[char], char, at)
        if char == "'":
            value, end = self._string(at)
            return Token(T.STRING, text[at:end], at, value)
        if char.isdigit() or (char == "-" and text[at + 1:at + 2].isdigit()):
            return self._number_or_datetime(at)
        name = _NAME.match(text, at)
        if name:
            end = name.end()
            if end < len(text) and text[end] == "'" and "." in name.group():
                member, close = self._string(end)
                return Token(T.ENUM, text[at:close], at, (name.group(), member))
            return Token(T.NAME, name.group(), at, name.group())
        raise self.error(at, f"the character '{char}' is not valid here")

    def _string(self, start: int) -> tuple[str, int]:
        """The unescaped value of the string literal at ``start`` and the offset just past it."""
        text, at, parts = self.source, start + 1, []
        while True:
            close = text.find("'", at)
            if close < 0:
                raise self.error(start, "the string literal starting here has no closing quote")
            parts.append(text[at:close])
            if text[close + 1:close + 2] == "'":
                parts.append("'")
                at = close + 2
                continue
            return "".join(parts), close + 1

    def _number_or_datetime(self, at: int) -> Token:
        moment = _DATETIME.match(self.source, at)
        if moment:
            return Token(T.DATETIME, moment.group(), at, self._ticks(moment, at))
        if _UNENCODED_PLUS.match(self.source, at):
            raise self.error(at, "the '+' of the DateTimeOffset's zone arrived as a space; a '+' in a URL "
                                 "must be percent-encoded as %2B")
        if _DATE_LIKE.match(self.source, at):
            raise self.error(at, "a DateTimeOffset literal needs a time and a zone, such as "
                                 "2020-07-06T06:34:12Z")
        number = _NUMBER.match(self.source, at)
        assert number is not None, "called only at a digit or a minus sign before one"
        written = number.group()
        end = number.end()
        if end < len(self.source) and (self.source[end].isalnum() or self.source[end] in "._"):
            raise self.error(at, f"'{written}{self.source[end]}' is not a valid number")
        value: int | float = float(written) if any(c in written for c in ".eE") else int(written)
        return Token(T.NUMBER, written, at, value)

    def _ticks(self, moment: re.Match[str], at: int) -> int:
        year, month, day, hour, minute, second, fraction, zone = moment.groups()
        offset = timedelta(0)
        if zone.upper() != "Z":
            sign = -1 if zone[0] == "-" else 1
            offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        try:
            whole = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                             tzinfo=timezone(offset) if offset else UTC)
            ticks = ticks_from_datetime(whole)
        except (ValueError, OverflowError) as exc:
            raise self.error(at, f"'{moment.group()}' is not a valid DateTimeOffset ({exc})") from exc
        # A tick is 1e-7 s: finer digits cannot distinguish stored values and are dropped.
        return ticks + int((fraction or "")[:7].ljust(7, "0"))
