"""Per-request state shared by the handlers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from graphlang.auth.principal import Principal

if TYPE_CHECKING:
    from graphlang.services import Services


@dataclass
class RequestContext:
    request: Request
    services: Services
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_request_id: str = ""
    principal: Principal | None = None
    version: str = "beta"
    route: str = "unmatched"
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sent = self.request.headers.get("client-request-id", "").strip()
        self.client_request_id = sent[:200] if sent else self.request_id

    @property
    def method(self) -> str:
        return self.request.method

    @cached_property
    def origin(self) -> str:
        """scheme://host of this request, for absolute links on the caller's own host."""
        scope = self.request.scope
        host = self.request.headers.get("host")
        if not host:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"

    @property
    def service_root(self) -> str:
        return f"{self.origin}/{self.version}"

    def require_principal(self) -> Principal:
        assert self.principal is not None, "authentication runs before handlers"
        return self.principal
