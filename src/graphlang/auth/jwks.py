"""The signing keys of an external OpenID Connect issuer (``--auth oidc``).

Keys come from the issuer's JWKS, found through its discovery document when one is configured.
They are cached; a token naming an unknown ``kid`` triggers a refetch (the issuer may have rotated
its keys), at most once per ``min_interval`` so that forged kids cannot make graphlang hammer the
issuer. Fetching is blocking and runs on a worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jwt
from jwt.algorithms import RSAAlgorithm

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("graphlang.auth")
FETCH_TIMEOUT_SECONDS = 10.0


class RemoteKeys:
    def __init__(self, *, jwks_url: str | None, discovery_url: str | None, min_interval: float,
                 max_age: float) -> None:
        if not jwks_url and not discovery_url:
            raise ValueError("oidc mode needs GRAPHLANG_OIDC_JWKS_URL or GRAPHLANG_OIDC_DISCOVERY_URL")
        self.jwks_url = jwks_url
        self.discovery_url = discovery_url
        self.min_interval = min_interval
        self.max_age = max_age
        self.issuer: str | None = None  # from the discovery document, when there is one
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None  # monotonic time of the last successful fetch
        self._attempted_at: float | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._fetched_at is not None

    def get(self, kid: str) -> Any | None:
        return self._keys.get(kid)

    def wants_fetch(self, kid: str) -> bool:
        """Whether a token with this kid should wait for a fetch first: cheap, called per new token."""
        now = time.monotonic()
        if self._fetched_at is not None and kid in self._keys and now - self._fetched_at < self.max_age:
            return False
        return self._attempted_at is None or now - self._attempted_at >= self.min_interval

    def refresh(self, kid: str) -> None:
        """Fetch the key set unless another thread just did, or the rate limit says not yet."""
        import httpx  # only oidc mode fetches, so only it loads the HTTP client

        with self._lock:
            if not self.wants_fetch(kid):
                return
            self._attempted_at = time.monotonic()
            try:
                self._keys = self._fetch()
            except (httpx.HTTPError, ValueError) as exc:
                # Keep the keys we had: a brief outage of the issuer must not lock everyone out.
                log.warning("could not fetch the issuer's signing keys: %s", type(exc).__name__,
                            extra={"jwks_url": self.jwks_url, "discovery_url": self.discovery_url})
                return
            self._fetched_at = time.monotonic()
            log.info("fetched the issuer's signing keys", extra={"key_count": len(self._keys)})

    def _fetch(self) -> dict[str, Any]:
        import httpx

        with httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False) as client:
            jwks_url = self.jwks_url
            if self.discovery_url:
                document = _json_object(client.get(self.discovery_url))
                issuer, jwks_uri = document.get("issuer"), document.get("jwks_uri")
                if not isinstance(jwks_uri, str) or not isinstance(issuer, str):
                    raise ValueError("the discovery document lacks issuer or jwks_uri")
                self.issuer = issuer
                jwks_url = jwks_url or jwks_uri
            assert jwks_url is not None
            return parse_jwks(_json_object(client.get(jwks_url)))


def _json_object(response: httpx.Response) -> Mapping[str, Any]:
    response.raise_for_status()
    document = response.json()
    if not isinstance(document, Mapping):
        raise ValueError(f"{response.request.url} did not answer with a JSON object")
    return document


def parse_jwks(document: Mapping[str, Any]) -> dict[str, Any]:
    """RSA signing keys by kid; keys for other uses or algorithms are skipped."""
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise ValueError("the JWKS has no 'keys' list")
    found: dict[str, Any] = {}
    for jwk in keys:
        if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA" or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", "RS256") != "RS256":
            continue
        try:
            found[jwk["kid"]] = RSAAlgorithm.from_jwk(dict(jwk))
        except (jwt.InvalidKeyError, ValueError, KeyError):
            continue
    return found
