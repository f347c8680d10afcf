"""From an Authorization header to a Principal, in the configured mode."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphlang.auth.keys import SigningKey
from graphlang.auth.principal import Principal
from graphlang.auth.tokens import INVALID, PrincipalCache, decode_verified, principal_from_claims
from graphlang.config import Settings
from graphlang.errors import Unauthenticated
from graphlang.storage.store import derived_user_id


class Authenticator:
    def __init__(self, settings: Settings, key: SigningKey) -> None:
        self.settings = settings
        self.key = key
        self.cache = PrincipalCache()
        self._none_principal = Principal(
            tenant_id=settings.tenant,
            user_id=derived_user_id(settings.tenant, settings.none_user),
            user_principal_name=settings.none_user,
            name=settings.none_user.split("@", 1)[0],
            app_id=None,
            app_name=None,
            scopes=frozenset({"User.ReadWrite.All"}),
            roles=frozenset(),
        )

    def authenticate(self, authorization: str | None) -> Principal:
        if self.settings.auth == "none":
            return self._none_principal
        if not authorization:
            raise Unauthenticated(
                "Access token is empty.", reason="the request has no Authorization header"
            )
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated(INVALID, reason="the Authorization header is not 'Bearer <token>'")
        cached = self.cache.get(token)
        if cached is not None:
            return cached
        claims = self.verify(token)
        principal = principal_from_claims(claims)
        self.cache.put(token, principal, float(claims["exp"]))
        return principal

    def verify(self, token: str) -> Mapping[str, Any]:
        return decode_verified(
            token,
            key_for_kid=lambda kid: self.key.public_key if kid == self.key.kid else None,
            audiences=self.settings.audiences,
            issuer_ok=lambda iss, claims: iss == self.settings.emulator_issuer(str(claims.get("tid"))),
        )
