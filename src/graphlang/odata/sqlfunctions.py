"""SQL spellings that differ between SQLite and PostgreSQL, hidden behind one construct each.

String tests avoid ``LIKE``: SQLite's LIKE ignores ASCII case and both need escaping, while OData's
``contains``/``startswith``/``endswith`` are exact. ``substr`` and ``length`` count characters in both
databases; the position of a substring is ``instr`` in SQLite and ``strpos`` in PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction


class position_of(GenericFunction[int]):
    """The 1-based character position of the second argument in the first; 0 when absent."""

    type = Integer()
    name = "instr"
    inherit_cache = True


@compiles(position_of, "postgresql")
def _strpos(element: position_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"
