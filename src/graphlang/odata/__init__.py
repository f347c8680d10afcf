"""OData system query options: parsed, validated and compiled to SQL before any query runs."""

from graphlang.odata.options import QueryOptions, parse_query

__all__ = ["QueryOptions", "parse_query"]
