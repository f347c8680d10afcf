"""A local OpenID Connect provider for tests: discovery and JWKS over http.server on 127.0.0.1.

It signs tokens the way Entra does (RS256 with a ``kid``), can rotate its keys, and counts how often
graphlang fetches its JWKS. Nothing here needs the internet.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

TENANT = "7d3e1a52-9c0b-4c61-8f1e-2b5a6c7d8e9f"


@functools.cache
def _rsa(slot: int) -> rsa.RSAPrivateKey:
    # Generating RSA keys is slow; every test shares the few it needs.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Key:
    """Slot 0 is the provider's key; other slots give other, unrelated keys."""

    def __init__(self, slot: int = 0) -> None:
        self.kid = f"test-key-{slot}"
        self.private = _rsa(slot)

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = orjson.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig"}

    def sign(self, claims: Mapping[str, Any], **headers: Any) -> str:
        return jwt.encode(dict(claims), self.private, algorithm="RS256", headers={"kid": self.kid, **headers})


class LocalIdentityProvider:
    """Entra-like: the v2 issuer is ``{base}/{tid}/v2.0`` and the discovery issuer uses ``{tenantid}``."""

    def __init__(self) -> None:
        self.keys = [Key()]
        self.jwks_fetches = 0
        self.base = ""

    @property
    def discovery_url(self) -> str:
        return f"{self.base}/common/v2.0/.well-known/openid-configuration"

    @property
    def jwks_url(self) -> str:
        return f"{self.base}/common/discovery/v2.0/keys"

    def issuer(self, tenant: str = TENANT) -> str:
        return f"{self.base}/{tenant}/v2.0"

    def v1_issuer(self, tenant: str = TENANT) -> str:
        return f"{self.base}/sts/{tenant}/"

    def claims(self, *, tenant: str = TENANT, lifetime: int = 3600, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {"aud": "api://graphlang", "iss": self.issuer(tenant), "iat": now, "nbf": now,
                                  "exp": now + lifetime, "tid": tenant, "ver": "2.0"}
        claims.update(extra)
        return claims

    def delegated(self, upn: str = "alice@fabrikam.com", scopes: str = "User.ReadWrite", **extra: Any) -> str:
        """A v2 delegated token: ``preferred_username`` and ``azp``."""
        oid = str(uuid.uuid5(uuid.NAMESPACE_DNS, upn))
        return self.keys[0].sign(self.claims(oid=oid, sub=oid, preferred_username=upn, scp=scopes,
                                             azp="c0ffee00-0000-0000-0000-000000000001", **extra))

    def document(self, path: str) -> dict[str, Any] | None:
        if path == "/common/v2.0/.well-known/openid-configuration":
            return {"issuer": f"{self.base}/{{tenantid}}/v2.0", "jwks_uri": self.jwks_url,
                    "token_endpoint": f"{self.base}/common/oauth2/v2.0/token"}
        if path == "/common/discovery/v2.0/keys":
            self.jwks_fetches += 1
            return {"keys": [key.jwk() for key in self.keys]}
        return None


@contextmanager
def running_idp() -> Iterator[LocalIdentityProvider]:
    provider = LocalIdentityProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            document = provider.document(self.path)
            body = orjson.dumps(document if document is not None else {"error": "not found"})
            self.send_response(200 if document is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
