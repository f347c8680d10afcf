"""How a served route is described for OpenAPI: its operations, their answers and their inputs.

The catalog (``describe.catalog``) maps each route template and method to an ``Operation``; the
templates are the routers' own, so the document lists exactly the routes that are served.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from graphlang.describe.schemas import Schema

Paths = dict[str, dict[str, "Operation"]]


class Access(Enum):
    ANONYMOUS = "anonymous"
    BEARER = "bearer"  # a Graph access token
    ADMIN = "admin"  # the control API's admin token


@dataclass(frozen=True)
class Reply:
    """A documented answer: a success, or an error whose body is not the Graph envelope."""

    status: int
    description: str
    schema: Schema | None = None
    media_type: str = "application/json"
    headers: tuple[str, ...] = ()  # names in components/headers


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    tag: str
    replies: tuple[Reply, ...]
    errors: tuple[int, ...]  # statuses answered with the Graph error envelope
    access: Access = Access.BEARER
    query: tuple[str, ...] = ()  # names in components/parameters (OData options add their $-less twin)
    headers: tuple[str, ...] = ()  # request headers, names in components/parameters
    body: Schema | None = None
    body_media_types: tuple[str, ...] = ("application/json",)
    description: str = ""
    links: Mapping[str, Any] = field(default_factory=dict)


# Statuses shared by families of operations. Every route outside the control API can also answer
# an injected fault's statuses; the document adds those to each such operation.
GRAPH_ERRORS = (401, 500, 503)  # a Graph route: token refused, unexpected fault, database unreachable
READ_ERRORS = (400, 403, 404, *GRAPH_ERRORS)
WRITE_ERRORS = (400, 403, 404, 413, 415, *GRAPH_ERRORS)
CONTROL_ERRORS = (401, 404, 500)  # 404: the control API is turned off
