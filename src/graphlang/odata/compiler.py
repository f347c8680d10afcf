"""Compile ``$filter`` and ``$orderby`` trees to SQLAlchemy Core over a whitelist of columns.

Only paths in ``SCALAR_PATHS`` reach SQL, literals are always bound parameters, and every operand is
type-checked here, before any statement runs.

Logic is two-valued, as in .NET's lifted operators that Graph's filters follow: a comparison with a
null operand is false (``eq null`` and ``ne null`` excepted, and ``ne`` is true when exactly one side
is null), and ``not`` negates a whole condition, so ``not (tag eq 'x')`` includes items without a tag.
SQL's three-valued logic is kept out by pushing ``not`` down to the leaves, where each comparison
knows which of its columns could be NULL.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, String, and_, false, func, literal, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression
from sqlalchemy.types import TypeEngine

from graphlang.errors import BadRequest
from graphlang.model import enums
from graphlang.model.properties import BY_FOLDED_NAME, ENTITY_TYPE, INFERENCE_MEMBERS, SCALAR_PATHS, Kind
from graphlang.model.timestamps import format_ticks
from graphlang.odata import ast
from graphlang.odata.sqlfunctions import position_of
from graphlang.storage.schema import languages

Condition = ColumnElement[bool]


class Type(Enum):
    STRING = "Edm.String"
    NUMBER = "Edm.Double"
    BOOLEAN = "Edm.Boolean"
    DATETIME = "Edm.DateTimeOffset"
    LEVEL = enums.LEVEL_TYPE
    AUDIENCES = enums.AUDIENCES_TYPE


KIND_TYPES = MappingProxyType({
    Kind.ID: Type.STRING, Kind.STRING: Type.STRING, Kind.BOOLEAN: Type.BOOLEAN, Kind.DOUBLE: Type.NUMBER,
    Kind.DATETIME: Type.DATETIME, Kind.LEVEL: Type.LEVEL, Kind.AUDIENCES: Type.AUDIENCES,
})
SQL_TYPES: Mapping[Type, TypeEngine[Any]] = MappingProxyType({
    Type.STRING: String(), Type.NUMBER: Float(), Type.BOOLEAN: Boolean(), Type.DATETIME: BigInteger(),
    Type.LEVEL: Integer(), Type.AUDIENCES: Integer(),
})
ENUM_TYPES = MappingProxyType({
    enums.LEVEL_TYPE.lower(): Type.LEVEL, enums.AUDIENCES_TYPE.lower(): Type.AUDIENCES,
    enums.LEVEL_TYPE.removeprefix("microsoft.").lower(): Type.LEVEL,
    enums.AUDIENCES_TYPE.removeprefix("microsoft.").lower(): Type.AUDIENCES,
})
PREDICATE_FUNCTIONS = ("contains", "endswith", "startswith")
VALUE_FUNCTIONS = ("tolower", "toupper")
FUNCTIONS = (*PREDICATE_FUNCTIONS, *VALUE_FUNCTIONS)
ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt,
    "le": operator.le,
}
OPPOSITE = MappingProxyType({"eq": "ne", "ne": "eq", "gt": "le", "ge": "lt", "lt": "ge", "le": "gt"})
_FOLDED_PATHS = MappingProxyType({path.lower(): path for path in SCALAR_PATHS})
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ABSENT = object()


@dataclass(frozen=True, slots=True)
class Resolved:
    """A whitelisted property path and its column."""

    path: str
    column: Column[Any]
    type: Type


def resolve(path: str, option: str) -> Resolved:
    """The column behind a property path, or BadRequest naming the path and why it cannot be used."""
    canonical = _FOLDED_PATHS.get(path.lower())
    if canonical is not None:
        column_name, kind = SCALAR_PATHS[canonical]
        return Resolved(canonical, languages.c[column_name], KIND_TYPES[kind])
    head, _, rest = path.partition("/")
    prop = BY_FOLDED_NAME.get(head.lower())
    if prop is None:
        raise BadRequest(f"Could not find a property named '{head}' on type '{ENTITY_TYPE}'. Check '{option}'.")
    if prop.kind is Kind.INFERENCE:
        if rest and rest.partition("/")[0].lower() not in {m.lower() for m in INFERENCE_MEMBERS}:
            raise BadRequest(f"Could not find a property named '{rest.partition('/')[0]}' on type "
                             f"'microsoft.graph.inferenceData'. Check '{option}'.")
        raise BadRequest(f"The property '{path}' is of complex type 'microsoft.graph.inferenceData' and "
                         f"cannot be used in '{option}'; use 'inference/confidenceScore' or "
                         "'inference/userHasVerifiedAccuracy'.")
    if rest and prop.kind in KIND_TYPES:
        raise BadRequest(f"The property '{prop.name}' is of primitive type '{prop.kind.value}' and has no "
                         f"member '{rest}'. Check '{option}'.")
    raise BadRequest(f"The property '{prop.name}' is of type '{prop.kind.value}' and cannot be used in "
                     f"'{option}'; only primitive and enum properties (and the members of 'inference') can.")


# -- $filter ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Value:
    """A typed operand: a SQL expression, or a Python constant that is bound (or folded) later."""

    type: Type | None  # None only for the null literal
    label: str  # how messages name it
    sql: ColumnElement[Any] | None = None
    constant: Any = _ABSENT
    nulls: tuple[ColumnElement[Any], ...] = field(default=())  # columns whose NULL makes it NULL

    @property
    def is_constant(self) -> bool:
        return self.constant is not _ABSENT

    @property
    def is_null(self) -> bool:
        return self.is_constant and self.constant is None

    def expression(self, type_: Type | None = None) -> ColumnElement[Any]:
        if self.sql is not None:
            return self.sql
        chosen = type_ or self.type
        return literal(self.constant, None if chosen is None else SQL_TYPES[chosen])


def _is_null(columns: Sequence[ColumnElement[Any]]) -> list[Condition]:
    return [column.is_(None) for column in columns]


def _constant(result: bool) -> Condition:
    return true() if result else false()


class FilterCompiler:
    def __init__(self, option: str = "$filter") -> None:
        self.option = option

    def compile(self, expression: ast.Expr) -> Condition:
        return self.condition(expression, negate=False)

    # -- conditions -------------------------------------------------------------------------------

    def condition(self, node: ast.Expr, negate: bool) -> Condition:
        match node:
            case ast.And(left, right):
                parts = (self.condition(left, negate), self.condition(right, negate))
                return or_(*parts) if negate else and_(*parts)
            case ast.Or(left, right):
                parts = (self.condition(left, negate), self.condition(right, negate))
                return and_(*parts) if negate else or_(*parts)
            case ast.Not(operand):
                return self.condition(operand, not negate)
            case ast.Compare():
                return self.compare(node, negate)
            case ast.Has():
                return self.has(node, negate)
            case ast.In():
                return self.in_list(node, negate)
            case ast.Call(name) if name.lower() in PREDICATE_FUNCTIONS:
                return self.string_test(node, negate)
            case ast.Boolean(flag):
                return _constant(flag != negate)
        value = self.value(node)
        if value.type is not Type.BOOLEAN or value.is_null:
            raise BadRequest(f"Type mismatch in '{self.option}': a condition must be Boolean, but {value.label} "
                             f"is {self._type_name(value)}.")
        column = value.expression()
        return column.is_not(True) if negate else column.is_(True)

    @staticmethod
    def _is_condition(node: ast.Expr) -> bool:
        if isinstance(node, ast.Call):
            return node.name.lower() in PREDICATE_FUNCTIONS
        return isinstance(node, ast.Compare | ast.Has | ast.In | ast.And | ast.Or | ast.Not)

    def compare(self, node: ast.Compare, negate: bool) -> Condition:
        for side, other in ((node.left, node.right), (node.right, node.left)):
            if node.op in ("eq", "ne") and self._is_condition(side) and isinstance(other, ast.Boolean):
                keep = other.value == (node.op == "eq")  # 'startswith(...) eq false' is 'not startswith(...)'
                return self.condition(side, negate == keep)
        left, right = self.value(node.left), self.value(node.right)
        op = OPPOSITE[node.op] if negate else node.op
        if left.is_null or right.is_null:
            return self._null_comparison(node.op, left, right, op)
        left, right = self._unify(left, right, node.op)
        if left.is_constant and right.is_constant:
            return _constant(ORDERINGS[op](left.constant, right.constant))
        lhs, rhs = left.expression(right.type), right.expression(left.type)
        if op in ("eq", "ne") and left.nulls and right.nulls:
            # Both sides may be NULL: OData's null eq null is true, which only IS [NOT] DISTINCT FROM says.
            return lhs.is_not_distinct_from(rhs) if op == "eq" else lhs.is_distinct_from(rhs)
        result: Condition = ORDERINGS[op](lhs, rhs)
        if op == "ne" or (negate and op != "eq"):
            # True when an operand is NULL: 'ne' by OData's rule, a negated ordering because not(false).
            return or_(result, *_is_null((*left.nulls, *right.nulls)))
        return result

    def _null_comparison(self, written: str, left: Value, right: Value, op: str) -> Condition:
        if written not in ("eq", "ne"):
            raise BadRequest(f"Type mismatch in '{self.option}': null can only be compared with 'eq' or 'ne', "
                             f"not '{written}'.")
        other = right if left.is_null else left
        if other.is_constant:
            return _constant((other.constant is None) == (op == "eq"))
        column = other.expression()
        return column.is_(None) if op == "eq" else column.is_not(None)

    def _unify(self, left: Value, right: Value, op: str) -> tuple[Value, Value]:
        """Both operands with one type: a string literal becomes an enum member beside an enum."""
        if left.is_constant and left.type is Type.STRING and right.type in (Type.LEVEL, Type.AUDIENCES):
            left = self._member(left, right)
        if right.is_constant and right.type is Type.STRING and left.type in (Type.LEVEL, Type.AUDIENCES):
            right = self._member(right, left)
        if left.type is not right.type:
            raise self._mismatch(left, right, op)
        return left, right

    def _member(self, literal_value: Value, beside: Value) -> Value:
        text = str(literal_value.constant)
        if beside.type is Type.LEVEL:
            member = enums.parse_level(text)
            valid = ", ".join(enums.LEVELS)
        else:
            member = enums.parse_audiences(text)
            valid = ", ".join(enums.AUDIENCES) + ", or a comma-separated combination"
        if member is None:
            assert beside.type is not None
            raise BadRequest(f"'{text}' is not a member of '{beside.type.value}' (compared with {beside.label} "
                             f"in '{self.option}'). Valid members are: {valid}.")
        return Value(beside.type, literal_value.label, constant=member)

    def _mismatch(self, left: Value, right: Value, op: str) -> BadRequest:
        hint = ""
        for one, other in ((left, right), (right, left)):
            if one.type in (Type.LEVEL, Type.AUDIENCES) and not one.is_constant:
                hint = " Compare an enum property with a member name in quotes, such as 'nativeOrBilingual'."
            elif one.type is Type.DATETIME and other.type is Type.STRING:
                hint = " Write DateTimeOffset values without quotes, such as 2020-07-06T06:34:12Z."
        return BadRequest(f"Type mismatch in '{self.option}': cannot apply '{op}' to {left.label} "
                          f"({self._type_name(left)}) and {right.label} ({self._type_name(right)}).{hint}")

    @staticmethod
    def _type_name(value: Value) -> str:
        return "null" if value.type is None else value.type.value

    def has(self, node: ast.Has, negate: bool) -> Condition:
        operand, flags = self.value(node.operand), self.value(node.flags)
        if operand.type is not Type.AUDIENCES or operand.is_constant:
            raise BadRequest(f"Type mismatch in '{self.option}': 'has' tests the flags of "
                             f"'allowedAudiences', not {operand.label} ({self._type_name(operand)}).")
        if not flags.is_constant or flags.type not in (Type.STRING, Type.AUDIENCES):
            raise BadRequest(f"Type mismatch in '{self.option}': the right side of 'has' must be an "
                             f"allowedAudiences member such as 'organization', not {flags.label}.")
        mask = flags.constant if flags.type is Type.AUDIENCES else self._member(flags, operand).constant
        masked = operand.expression().bitwise_and(mask)
        if negate:
            return or_(masked != mask, *_is_null(operand.nulls))
        matched: Condition = masked == mask
        return matched

    def in_list(self, node: ast.In, negate: bool) -> Condition:
        operand = self.value(node.operand)
        items = [self.value(item) for item in node.items]
        with_null = any(item.is_null for item in items)
        members = [self._unify(operand, item, "in")[1].constant for item in items if not item.is_null]
        if operand.is_constant:
            found = operand.constant in members or (operand.is_null and with_null)
            return _constant(found != negate)
        column = operand.expression()
        if negate:
            excluded = [column.not_in(members)] if members else []
            return and_(*excluded, column.is_not(None)) if with_null else or_(*excluded, column.is_(None))
        included = [column.in_(members)] if members else []
        return or_(*included, column.is_(None)) if with_null else and_(*included)

    def string_test(self, node: ast.Call, negate: bool) -> Condition:
        name = node.name.lower()
        subject, pattern = (self._string_argument(node, arg) for arg in self._arguments(node, 2))
        if subject.is_constant and pattern.is_constant:
            text, part = str(subject.constant), str(pattern.constant)
            found = {"contains": part in text, "startswith": text.startswith(part),
                     "endswith": text.endswith(part)}[name]
            return _constant(found != negate)
        haystack, needle = subject.expression(), pattern.expression()
        length: ColumnElement[int] | int = len(pattern.constant) if pattern.is_constant else func.length(needle)
        if name == "contains":
            test = position_of(haystack, needle) > 0
        elif name == "startswith":
            test = func.substr(haystack, 1, length) == needle
        else:
            # substr from a start <= 0 yields at most the whole subject, never a longer suffix.
            test = func.substr(haystack, func.length(haystack) - length + 1) == needle
        if negate:
            return or_(not_(test), *_is_null((*subject.nulls, *pattern.nulls)))
        return test

    # -- values -----------------------------------------------------------------------------------

    def value(self, node: ast.Expr) -> Value:
        match node:
            case ast.Path(path):
                resolved = resolve(path, self.option)
                column = resolved.column
                return Value(resolved.type, f"'{resolved.path}'", sql=column,
                             nulls=(column,) if column.nullable else ())
            case ast.String(text):
                return Value(Type.STRING, f"the string '{text}'", constant=text)
            case ast.Number(number):
                return Value(Type.NUMBER, f"the number {number}", constant=number)
            case ast.Boolean(flag):
                return Value(Type.BOOLEAN, f"the value {str(flag).lower()}", constant=flag)
            case ast.Null():
                return Value(None, "null", constant=None)
            case ast.DateTime(ticks):
                return Value(Type.DATETIME, f"the DateTimeOffset {format_ticks(ticks)}", constant=ticks)
            case ast.Enum(type_name, member):
                return self._qualified_member(type_name, member)
            case ast.Call(name) if name.lower() in VALUE_FUNCTIONS:
                return self._case_mapping(node)
            case ast.Call(name) if name.lower() in PREDICATE_FUNCTIONS:
                raise BadRequest(f"Type mismatch in '{self.option}': {name}(...) is a condition; compare it only "
                                 "with true or false.")
            case ast.Call(name):
                raise BadRequest(f"Unknown function '{name}' in '{self.option}'. Supported functions: "
                                 f"{', '.join(FUNCTIONS)}.")
            case ast.Not():
                raise BadRequest(f"Type mismatch in '{self.option}': 'not' binds tighter than comparisons and "
                                 "applies only to a condition; write 'not (tag eq ...)' with parentheses.")
        raise BadRequest(f"Type mismatch in '{self.option}': a condition cannot be used as a value here; "
                         "compare conditions only with true or false.")

    def _qualified_member(self, type_name: str, member: str) -> Value:
        kind = ENUM_TYPES.get(type_name.lower())
        if kind is None:
            raise BadRequest(f"Unknown enum type '{type_name}' in '{self.option}'. Known: {enums.LEVEL_TYPE}, "
                             f"{enums.AUDIENCES_TYPE}.")
        as_string = Value(Type.STRING, f"{type_name}'{member}'", constant=member)
        return self._member(as_string, Value(kind, f"'{type_name}'"))

    def _case_mapping(self, node: ast.Call) -> Value:
        (argument,) = self._arguments(node, 1)
        subject = self._string_argument(node, argument)
        lower = node.name.lower() == "tolower"
        label = f"{node.name.lower()}({subject.label})"
        if subject.is_constant:
            # The databases map ASCII letters only (SQLite's lower(), PostgreSQL's in the "C" collation).
            table = _ASCII_LOWER if lower else _ASCII_UPPER
            return Value(Type.STRING, label, constant=str(subject.constant).translate(table))
        mapped = (func.lower if lower else func.upper)(subject.expression())
        return Value(Type.STRING, label, sql=mapped, nulls=subject.nulls)

    def _arguments(self, node: ast.Call, count: int) -> tuple[ast.Expr, ...]:
        if len(node.args) != count:
            raise BadRequest(f"The function '{node.name}' in '{self.option}' takes {count} argument"
                             f"{'s' if count > 1 else ''}, but {len(node.args)} were given.")
        return node.args

    def _string_argument(self, node: ast.Call, argument: ast.Expr) -> Value:
        value = self.value(argument)
        if value.type is not Type.STRING:
            raise BadRequest(f"Type mismatch in '{self.option}': '{node.name}' takes Edm.String arguments, but "
                             f"{value.label} is {self._type_name(value)}.")
        return value


def compile_filter(expression: ast.Expr, option: str = "$filter") -> Condition:
    return FilterCompiler(option).compile(expression)


# -- $orderby ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SortKey:
    path: str
    column: Column[Any]
    descending: bool

    @property
    def clause(self) -> UnaryExpression[Any]:
        """Nulls sort as the smallest value in both databases: first ascending, last descending.

        Non-nullable columns get no NULLS clause, so PostgreSQL can read their index in order.
        """
        if self.descending:
            return self.column.desc().nulls_last() if self.column.nullable else self.column.desc()
        return self.column.asc().nulls_first() if self.column.nullable else self.column.asc()


DEFAULT_ORDER = (ast.OrderKey("createdDateTime"),)


def compile_orderby(keys: Sequence[ast.OrderKey] | None, option: str = "$orderby") -> tuple[SortKey, ...]:
    """The sort keys of a listing: ``keys`` (or ``createdDateTime asc``) with ``id`` last for a total order.

    ``id`` takes the direction of the key before it, so that a single-key order in either direction
    reads its (key, id) index forwards or backwards instead of sorting.
    """
    sort: list[SortKey] = []
    for key in keys or DEFAULT_ORDER:
        resolved = resolve(key.path, option)
        if any(existing.path == resolved.path for existing in sort):
            raise BadRequest(f"The property '{resolved.path}' appears more than once in '{option}'.")
        sort.append(SortKey(resolved.path, resolved.column, key.descending))
    if not any(key.path == "id" for key in sort):
        sort.append(SortKey("id", languages.c.id, descending=sort[-1].descending))
    return tuple(sort)
