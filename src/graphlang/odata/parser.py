"""Recursive-descent parsers for ``$filter`` and ``$orderby``, with OData's operator precedence.

Precedence, loosest first: ``or``, ``and``, the comparisons (``eq ne gt ge lt le has in``), then the
unary ``not``, which binds tighter than a comparison as in OData: ``not (tag eq 'x')`` needs its
parentheses. Keywords are matched case-insensitively. Every node, parenthesised group included,
counts against the node limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from graphlang.errors import BadRequest
from graphlang.odata import ast
from graphlang.odata.lexer import Lexer, T, Token, describe, syntax_error
from graphlang.odata.limits import limit_exceeded

# Bounds the parser's recursion whatever the node limit is configured to.
MAX_DEPTH = 50
COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
# Recognised so that using one gets a precise message rather than a bare syntax error.
ARITHMETIC = frozenset({"add", "sub", "mul", "div", "divby", "mod"})
KEYWORD_LITERALS: dict[str, ast.LiteralNode] = {
    "true": ast.Boolean(True), "false": ast.Boolean(False), "null": ast.Null(),
}


class _Parser:
    def __init__(self, source: str, option: str, max_nodes: int) -> None:
        self.source = source
        self.option = option
        self.tokens = Lexer(source, option).tokens()
        self.at = 0
        self.nodes = 0
        self.max_nodes = max_nodes
        self.depth = 0

    # -- token helpers ----------------------------------------------------------------------------

    @property
    def current(self) -> Token:
        return self.tokens[self.at]

    def kind(self) -> T:
        return self.tokens[self.at].kind

    def advance(self) -> Token:
        token = self.tokens[self.at]
        if token.kind is not T.END:
            self.at += 1
        return token

    def keyword(self) -> str | None:
        token = self.current
        return token.text.lower() if token.kind is T.NAME else None

    def expect(self, kind: T, expected: str) -> Token:
        if self.kind() is not kind:
            raise self.unexpected(expected)
        return self.advance()

    def unexpected(self, expected: str) -> BadRequest:
        token = self.current
        word = token.text.lower() if token.kind is T.NAME else ""
        if word in ARITHMETIC:
            return syntax_error(self.option, self.source, token.position,
                                f"the arithmetic operator '{token.text}' is not supported")
        return syntax_error(self.option, self.source, token.position,
                            f"unexpected {describe(token)}; expected {expected}")

    def count(self) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise limit_exceeded(f"The {self.option} expression has more than {self.max_nodes} nodes",
                                 self.max_nodes, "the maximum number of nodes in a filter")

    @contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise syntax_error(self.option, self.source, self.current.position,
                               f"the expression is nested more than {MAX_DEPTH} levels deep")
        try:
            yield
        finally:
            self.depth -= 1

    def finish(self) -> None:
        if self.kind() is not T.END:
            raise self.unexpected("an operator such as 'and' or 'or', or the end of the expression")

    # -- $filter ----------------------------------------------------------------------------------

    def or_expression(self) -> ast.Expr:
        left = self.and_expression()
        while self.keyword() == "or":
            self.advance()
            self.count()
            left = ast.Or(left, self.and_expression())
        return left

    def and_expression(self) -> ast.Expr:
        left = self.comparison()
        while self.keyword() == "and":
            self.advance()
            self.count()
            left = ast.And(left, self.comparison())
        return left

    def comparison(self) -> ast.Expr:
        left = self.unary()
        while True:
            word = self.keyword()
            if word in COMPARISONS:
                self.advance()
                self.count()
                left = ast.Compare(cast(ast.ComparisonOperator, word), left, self.unary())
            elif word == "has":
                self.advance()
                self.count()
                left = ast.Has(left, self.unary())
            elif word == "in":
                self.advance()
                self.count()
                left = ast.In(left, self.literal_list())
            else:
                return left

    def unary(self) -> ast.Expr:
        if self.keyword() == "not":
            self.advance()
            self.count()
            with self.nested():
                return ast.Not(self.unary())
        return self.primary()

    def primary(self) -> ast.Expr:
        token = self.current
        word = self.keyword()
        if token.kind is T.OPEN:
            self.advance()
            self.count()
            with self.nested():
                inner = self.or_expression()
            self.expect(T.CLOSE, f"')' to close the '(' at position {token.position}")
            return inner
        if word is not None and word not in KEYWORD_LITERALS:
            if word in COMPARISONS or word in ARITHMETIC or word in ("and", "or", "has", "in"):
                raise self.unexpected("a property, a literal or a function call")
            if self.tokens[self.at + 1].kind is T.OPEN:
                with self.nested():
                    return self.call()
            return self.path()
        literal = self.literal()
        if literal is None:
            raise self.unexpected("a property, a literal or a function call")
        return literal

    def literal(self) -> ast.LiteralNode | None:
        token = self.current
        node: ast.LiteralNode
        if token.kind is T.STRING:
            node = ast.String(cast(str, token.value))
        elif token.kind is T.NUMBER:
            node = ast.Number(cast(int | float, token.value))
        elif token.kind is T.DATETIME:
            node = ast.DateTime(cast(int, token.value))
        elif token.kind is T.ENUM:
            type_name, member = cast(tuple[str, str], token.value)
            node = ast.Enum(type_name, member)
        elif token.kind is T.NAME and token.text.lower() in KEYWORD_LITERALS:
            node = KEYWORD_LITERALS[token.text.lower()]
        else:
            return None
        self.advance()
        self.count()
        return node

    def literal_list(self) -> tuple[ast.LiteralNode, ...]:
        self.expect(T.OPEN, "'(' to start the list of values after 'in'")
        items: list[ast.LiteralNode] = []
        while True:
            item = self.literal()
            if item is None:
                raise self.unexpected("a literal value in the list after 'in'")
            items.append(item)
            if self.kind() is T.COMMA:
                self.advance()
                continue
            self.expect(T.CLOSE, "',' or ')' in the list after 'in'")
            return tuple(items)

    def call(self) -> ast.Call:
        name = self.advance().text
        self.advance()  # the '(' seen by the caller
        self.count()
        args: list[ast.Expr] = []
        if self.kind() is not T.CLOSE:
            while True:
                args.append(self.or_expression())
                if self.kind() is not T.COMMA:
                    break
                self.advance()
        self.expect(T.CLOSE, f"',' or ')' in the arguments of '{name}'")
        return ast.Call(name, tuple(args))

    def path(self) -> ast.Path:
        parts = [self.advance().text]
        while self.kind() is T.SLASH:
            self.advance()
            parts.append(self.expect(T.NAME, "a property name after '/'").text)
        self.count()
        return ast.Path("/".join(parts))

    # -- $orderby ---------------------------------------------------------------------------------

    def order_keys(self) -> tuple[ast.OrderKey, ...]:
        keys: list[ast.OrderKey] = []
        while True:
            if self.kind() is not T.NAME:
                raise self.unexpected("a property name")
            path = self.path().path
            descending = False
            if self.keyword() in ("asc", "desc"):
                descending = self.advance().text.lower() == "desc"
            keys.append(ast.OrderKey(path, descending))
            if self.kind() is T.COMMA:
                self.advance()
                continue
            if self.kind() is not T.END:
                raise self.unexpected("'asc', 'desc', ',' or the end of the expression")
            return tuple(keys)


def parse_filter(source: str, *, max_nodes: int = 100, option: str = "$filter") -> ast.Expr:
    """The syntax tree of a ``$filter`` value; BadRequest names the position of a syntax error."""
    parser = _Parser(source, option, max_nodes)
    if parser.current.kind is T.END:
        raise BadRequest(f"The query option '{option}' is empty; give it a Boolean expression.")
    expression = parser.or_expression()
    parser.finish()
    return expression


def parse_orderby(source: str, *, option: str = "$orderby") -> tuple[ast.OrderKey, ...]:
    parser = _Parser(source, option, max_nodes=len(source) + 1)
    if parser.current.kind is T.END:
        raise BadRequest(f"The query option '{option}' is empty; give it one or more properties.")
    return parser.order_keys()
