"""The syntax tree of ``$filter`` and ``$orderby``: what the parser produces and the compiler reads.

Nodes are frozen and compare by value, so parser tests can state expected trees directly and a tree's
``repr`` is a canonical form of the query (the skiptoken is bound to it). Names are kept as written;
the compiler resolves them against the property whitelist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as Choice


@dataclass(frozen=True, slots=True)
class String:
    value: str


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float


@dataclass(frozen=True, slots=True)
class Boolean:
    value: bool


@dataclass(frozen=True, slots=True)
class Null:
    pass


@dataclass(frozen=True, slots=True)
class DateTime:
    """A DateTimeOffset literal, as 100-nanosecond ticks since the Unix epoch (the stored form)."""

    ticks: int


@dataclass(frozen=True, slots=True)
class Enum:
    """A qualified enum literal such as ``microsoft.graph.languageProficiencyLevel'elementary'``."""

    type_name: str
    member: str


@dataclass(frozen=True, slots=True)
class Path:
    """A property path: ``tag`` or ``inference/confidenceScore``."""

    path: str


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]


ComparisonOperator = Choice["eq", "ne", "gt", "ge", "lt", "le"]


@dataclass(frozen=True, slots=True)
class Compare:
    op: ComparisonOperator
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Has:
    operand: Expr
    flags: Expr


@dataclass(frozen=True, slots=True)
class In:
    operand: Expr
    items: tuple[LiteralNode, ...]


@dataclass(frozen=True, slots=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class OrderKey:
    path: str
    descending: bool = False


LiteralNode = String | Number | Boolean | Null | DateTime | Enum
Expr = LiteralNode | Path | Call | Compare | Has | In | And | Or | Not
LITERALS = (String, Number, Boolean, Null, DateTime, Enum)
