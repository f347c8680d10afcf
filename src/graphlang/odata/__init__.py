"""OData system query options: parsed, validated and compiled to SQL before any query runs."""

from graphlang.odata.limits import QueryLimits
from graphlang.odata.options import QueryOptions, Scope, parse_query

__all__ = ["QueryLimits", "QueryOptions", "Scope", "parse_query"]
