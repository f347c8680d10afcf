"""Per-request state shared by the handlers."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from graphlang.auth.principal import Principal
from graphlang.errors import BadRequest

if TYPE_CHECKING:
    from graphlang.services import Services

# RFC 9110 Host: an IP literal in brackets or a registered name, then an optional port. Anything else
# would change the request's own URL (a '/' or '?' moves the path) or make it unparsable.
_HOST = re.compile(rb"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?")


@lru_cache(maxsize=256)  # a server is reached by few names, and each request names one
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
    for name, value in headers:  # a loop rather than next() over a generator: this runs for every request
        if name == b"host" and not _is_host(value):
            invalid: bytes = value
            break
    else:
        return scope, None
    kept = [(name, value) for name, value in headers if name != b"host"]
    return {**scope, "headers": kept}, BadRequest(
        f"The Host header '{invalid.decode('latin-1')}' is not a host name or IP address with an optional port.")


class _RandomBlocks:
    """Bytes from ``os.urandom``, asked of the kernel a block at a time rather than with a system
    call per request id."""

    __slots__ = ("block", "used")
    SIZE = 4096  # 256 request ids

    def __init__(self) -> None:
        self.block = b""
        self.used = 0

    def discard(self) -> None:
        self.block, self.used = b"", 0

    def take(self, count: int) -> bytes:
        if self.used + count > len(self.block):
            self.block, self.used = os.urandom(self.SIZE), 0
        start = self.used
        self.used = start + count
        return self.block[start:start + count]


_random = _RandomBlocks()
# A forked worker must not hand out the ids its parent's block still holds.
os.register_at_fork(after_in_child=_random.discard)


def new_request_id() -> str:
    """A random (version 4) GUID, as ``str(uuid.uuid4())`` makes it, in a third of the time."""
    raw = bytearray(_random.take(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass
class RequestContext:
    request: Request
    services: Services
    request_id: str = field(default_factory=new_request_id)
    client_request_id: str = ""
    principal: Principal | None = None
    version: str = "beta"
    route: str = "unmatched"
    notes: dict[str, Any] = field(default_factory=dict)
    method: str = field(init=False)
    host: str = field(init=False)  # the Host header's value, or an empty string
    _origin: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # The two headers every request reads, found in one pass over the scope's.
        host = sent = None
        for key, value in self.request.scope["headers"]:
            if key == b"host":
                host = host if host is not None else value
            elif key == b"client-request-id":
                sent = sent if sent is not None else value
        self.host = "" if host is None else host.decode("latin-1")
        text = "" if sent is None else sent.decode("latin-1").strip()
        self.client_request_id = text[:200] if text else self.request_id
        self.method = self.request.method

    def header_values(self, name: bytes) -> list[str]:
        """Every value of one header (its name in lower case, as ASGI gives names), straight from the
        scope: building ``request.headers`` costs more than the few lookups a request makes."""
        return [value.decode("latin-1") for key, value in self.request.scope["headers"] if key == name]

    @property
    def origin(self) -> str:
        """scheme://host of this request, for absolute links on the caller's own host."""
        # Kept by hand rather than with functools.cached_property, which takes a lock on every first use.
        origin = self._origin
        if origin is None:
            scope = self.request.scope
            host = self.host
            if not host:
                server = scope.get("server") or ("127.0.0.1", 80)
                host = f"{server[0]}:{server[1]}"
            origin = self._origin = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"
        return origin

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


# A request, its response and the seconds it took: what observers see of each (app.py).
Answered = tuple[RequestContext, Response, float]
