"""Per-request state shared by the handlers."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import Scope

from graphlang.auth.principal import Principal
from graphlang.errors import BadRequest

if TYPE_CHECKING:
    from graphlang.services import Services

# RFC 9110 Host: an IP literal in brackets or a registered name, then an optional port. Anything else
# would change the request's own URL (a '/' or '?' moves the path) or make it unparsable.
_HOST = re.compile(rb"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?")


def _is_host(value: bytes) -> bool:
    if not _HOST.fullmatch(value):
        return False
    try:
        urlsplit(f"http://{value.decode('ascii')}/")  # it also checks what the brackets hold
    except ValueError:
        return False
    return True


def without_invalid_host(scope: Scope) -> tuple[Scope, BadRequest | None]:
    """The scope without a Host header that is not ``host[:port]``, and the error that answers it.

    The request is answered from the scope without it (its URL then names the server's own
    address), so that rendering the refusal cannot trip over the header it refuses.
    """
    headers = scope["headers"]
    invalid = next((value for name, value in headers if name == b"host" and not _is_host(value)), None)
    if invalid is None:
        return scope, None
    kept = [(name, value) for name, value in headers if name != b"host"]
    return {**scope, "headers": kept}, BadRequest(
        f"The Host header '{invalid.decode('latin-1')}' is not a host name or IP address with an optional port.")


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
    def query(self) -> str:
        """The query string as sent, still percent-encoded (cheaper than ``request.url.query``, which
        parses the whole URL)."""
        raw: bytes = self.request.scope.get("query_string", b"")
        return raw.decode()

    @property
    def service_root(self) -> str:
        return f"{self.origin}/{self.version}"

    def require_principal(self) -> Principal:
        assert self.principal is not None, "authentication runs before handlers"
        return self.principal
