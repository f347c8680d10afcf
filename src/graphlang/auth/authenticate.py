"""From an Authorization header to a Principal, in the configured mode.

- ``emulator``: graphlang is the issuer; tokens are checked against its own key.
- ``oidc``: an external issuer (for example Entra ID); keys come from its JWKS.
- ``none``: no token is needed or read; every request acts as ``GRAPHLANG_NONE_USER``.

The authenticator also holds the deployment's permission table, which says what a principal may do.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import anyio.to_thread
import jwt

from graphlang.auth.jwks import RemoteKeys
from graphlang.auth.keys import SigningKey
from graphlang.auth.permissions import load_table
from graphlang.auth.principal import Principal
from graphlang.auth.tokens import INVALID, PrincipalCache, decode_verified, principal_from_claims
from graphlang.config import Settings
from graphlang.errors import ServiceUnavailable, Unauthenticated
from graphlang.storage.store import derived_user_id

log = logging.getLogger("graphlang.auth")
TENANT_PLACEHOLDER = "{tenantid}"


class Authenticator:
    def __init__(self, settings: Settings, key: SigningKey) -> None:
        self.settings = settings
        self.key = key
        self.cache = PrincipalCache()
        self.permissions = load_table(settings.permissions_file)
        self.remote: RemoteKeys | None = None
        if settings.auth == "oidc":
            self.remote = RemoteKeys(
                jwks_url=settings.oidc_jwks_url,
                discovery_url=settings.oidc_discovery_url,
                min_interval=settings.oidc_refresh_interval,
                max_age=settings.oidc_keys_max_age,
            )
            if not settings.oidc_issuer and not settings.oidc_discovery_url:
                raise ValueError("oidc mode needs GRAPHLANG_OIDC_ISSUER or GRAPHLANG_OIDC_DISCOVERY_URL")
        self.none_principal = Principal(
            tenant_id=settings.tenant.lower(),
            user_id=derived_user_id(settings.tenant, settings.none_user),
            user_principal_name=settings.none_user,
            name=settings.none_user.split("@", 1)[0],
            app_id=None,
            app_name=None,
            scopes=frozenset({"User.ReadWrite.All"}),
            roles=frozenset(),
        )

    async def authenticate_request(self, authorizations: Sequence[str]) -> Principal:
        """``authenticate`` for a request's Authorization headers, after fetching the issuer's keys on a
        worker thread when the token needs them."""
        if len(authorizations) > 1 and self.settings.auth != "none":
            # Which one a proxy in front checked is unknowable, so neither is trusted.
            raise Unauthenticated(INVALID, reason="the request has more than one Authorization header")
        authorization = authorizations[0] if authorizations else None
        if self.remote is not None:
            kid = self._kid_to_verify(authorization)
            if kid is not None and self.remote.wants_fetch(kid):
                await anyio.to_thread.run_sync(self.remote.refresh, kid)
        return self.authenticate(authorization)

    def _kid_to_verify(self, authorization: str | None) -> str | None:
        """The kid of a bearer token not verified yet; None when there is nothing to fetch keys for."""
        try:
            token = bearer_token(authorization)
            if self.cache.get(token) is not None:
                return None
            kid = jwt.get_unverified_header(token).get("kid")
        except (Unauthenticated, jwt.PyJWTError):
            return None  # authenticate() reports what is wrong
        return kid if isinstance(kid, str) else None

    def authenticate(self, authorization: str | None) -> Principal:
        if self.settings.auth == "none":
            return self.none_principal
        token = bearer_token(authorization)
        cached = self.cache.get(token)
        if cached is not None:
            return cached
        claims = self.verify(token)
        principal = principal_from_claims(claims)
        self.cache.put(token, principal, float(claims["exp"]))
        return principal

    def verify(self, token: str) -> Mapping[str, Any]:
        if self.remote is not None:
            return decode_verified(token, key_for_kid=self._remote_key, audiences=self.settings.audiences,
                                   issuer_ok=self._trusted_external_issuer)
        return decode_verified(
            token,
            key_for_kid=lambda kid: self.key.public_key if kid == self.key.kid else None,
            audiences=self.settings.audiences,
            issuer_ok=lambda iss, claims: iss == self.settings.emulator_issuer(str(claims.get("tid"))),
        )

    def _remote_key(self, kid: str) -> Any | None:
        assert self.remote is not None
        if not self.remote.loaded:
            raise ServiceUnavailable("The identity provider's signing keys could not be fetched; retry "
                                     "later.", headers={"Retry-After": "30"})
        return self.remote.get(kid)

    def _trusted_external_issuer(self, issuer: str, claims: Mapping[str, Any]) -> bool:
        assert self.remote is not None
        configured = (self.settings.oidc_issuer or "").split()
        templates = configured or [self.remote.issuer or ""]
        tenant = claims.get("tid")
        for template in templates:
            if TENANT_PLACEHOLDER in template:
                if isinstance(tenant, str) and tenant and issuer == template.replace(TENANT_PLACEHOLDER, tenant):
                    return True
            elif template and issuer == template:
                return True
        return False


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Access token is empty.", reason="the request has no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(INVALID, reason="the Authorization header is not 'Bearer <token>'")
    return token


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(settings: Settings) -> None:
    """``none`` mode trusts every request, so it serves only on a loopback interface, and says so."""
    if settings.auth != "none":
        return
    if not is_loopback(settings.host):
        raise RuntimeError(f"--auth none accepts every request without a token, so it only binds to a loopback "
                           f"address (127.0.0.1, ::1 or localhost), not {settings.host!r}")
    log.warning("authentication is off (--auth none): every request acts as %s with User.ReadWrite.All; "
                "use this for local work only", settings.none_user)
