"""The bounds every query is checked against before any SQL runs; all of them come from Settings."""

from __future__ import annotations

from dataclasses import dataclass

from graphlang.config import Settings
from graphlang.errors import BadRequest


@dataclass(frozen=True, slots=True)
class QueryLimits:
    page_size: int = 100  # the page size when the request has no $top
    max_top: int = 999  # the largest $top, and so the largest page
    max_skip: int = 100_000
    max_filter_nodes: int = 100  # operators, operands and parenthesised groups in $filter
    max_query_length: int = 4096  # characters of the raw (percent-encoded) query string

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(
            page_size=min(settings.page_size, settings.max_page_size),
            max_top=settings.max_page_size,
            max_skip=settings.max_skip,
            max_filter_nodes=settings.max_filter_nodes,
            max_query_length=settings.max_query_length,
        )


def limit_exceeded(finding: str, limit: int, setting: str) -> BadRequest:
    """``finding`` says what the request has, e.g. "The value of '$top' is 5000"."""
    return BadRequest(f"{finding}, which exceeds the limit of {limit} ({setting}).")
