"""Minting emulator tokens and verifying bearer tokens into a Principal.

Verification checks the signature with an allow-list of exactly one algorithm (RS256), the key id,
the lifetime (with five minutes of clock skew, as Entra allows), the audience and the issuer. Any
failure is one ``Unauthenticated`` whose reason names what was wrong, never the key material.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jwt

from graphlang.auth.keys import SigningKey
from graphlang.auth.principal import Principal
from graphlang.errors import Unauthenticated

CLOCK_SKEW_SECONDS = 300
DEFAULT_LIFETIME_SECONDS = 3600
ALGORITHMS = ["RS256"]
INVALID = "Access token validation failure. Invalid audience, issuer, signature or lifetime."
EXPIRED = "Lifetime validation failed, the token is expired."


def mint(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    tenant: str,
    user_id: str | None = None,
    upn: str | None = None,
    name: str | None = None,
    scopes: Iterable[str] = (),
    app_id: str | None = None,
    app_name: str | None = None,
    roles: Iterable[str] = (),
    expires_in: int = DEFAULT_LIFETIME_SECONDS,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An Entra-shaped v2 access token. Delegated when ``user_id`` is given, app-only otherwise."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": audience,
        "iss": issuer,
        "iat": now,
        "nbf": now,
        "exp": now + expires_in,
        "tid": tenant,
        "ver": "2.0",
        "uti": uuid.uuid4().hex[:22],
    }
    if app_id is not None:
        claims["azp"] = app_id
        claims["appid"] = app_id
        if app_name:
            claims["app_displayname"] = app_name
    if user_id is not None:
        claims.update({"oid": user_id, "sub": user_id, "idtyp": "user", "scp": " ".join(scopes)})
        if upn:
            claims["upn"] = upn
            claims["preferred_username"] = upn
        if name:
            claims["name"] = name
    else:
        claims.update({"oid": app_id, "sub": app_id, "idtyp": "app", "roles": list(roles)})
    claims.update(extra or {})
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def mint_id_token(key: SigningKey, *, issuer: str, client_id: str, tenant: str, user_id: str, upn: str,
                  name: str | None, expires_in: int = DEFAULT_LIFETIME_SECONDS) -> str:
    """The OpenID Connect ID token a token endpoint returns beside a delegated access token."""
    now = int(time.time())
    claims = {"aud": client_id, "iss": issuer, "iat": now, "nbf": now, "exp": now + expires_in, "tid": tenant,
              "oid": user_id, "sub": user_id, "preferred_username": upn, "ver": "2.0"}
    if name:
        claims["name"] = name
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """Read Entra v1 or v2 claims: ``upn`` or ``preferred_username``, ``appid`` or ``azp``."""
    tenant = claims.get("tid")
    if not isinstance(tenant, str) or not tenant:
        raise Unauthenticated(INVALID, reason="the token has no tid claim")
    app_id = claims.get("appid") or claims.get("azp")
    scp = claims.get("scp")
    roles = claims.get("roles") or []
    if isinstance(roles, str):
        roles = roles.split()
    delegated = isinstance(scp, str) and claims.get("idtyp") != "app"
    oid = claims.get("oid")
    if delegated:
        if not isinstance(oid, str) or not oid:
            raise Unauthenticated(INVALID, reason="a delegated token must carry an oid claim")
        upn = claims.get("upn") or claims.get("preferred_username") or claims.get("unique_name")
        return Principal(
            tenant_id=tenant.lower(),
            user_id=oid.lower(),
            user_principal_name=str(upn) if upn else None,
            name=str(claims["name"]) if claims.get("name") else None,
            app_id=str(app_id).lower() if app_id else None,
            app_name=str(claims.get("app_displayname")) if claims.get("app_displayname") else None,
            scopes=frozenset(str(scp).split()),
            roles=frozenset(),
        )
    if not app_id:
        raise Unauthenticated(INVALID, reason="an app-only token must carry appid or azp")
    return Principal(
        tenant_id=tenant.lower(),
        user_id=None,
        user_principal_name=None,
        name=None,
        app_id=str(app_id).lower(),
        app_name=str(claims.get("app_displayname")) if claims.get("app_displayname") else None,
        scopes=frozenset(),
        roles=frozenset(str(r) for r in roles),
    )


def decode_verified(
    token: str,
    *,
    key_for_kid: Callable[[str], Any],
    audiences: Iterable[str],
    issuer_ok: Callable[[str, Mapping[str, Any]], bool],
) -> Mapping[str, Any]:
    """The claims of a token whose signature, kid, lifetime, audience and issuer all check out."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthenticated(INVALID, reason="the token is not a well-formed JWT") from exc
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        named = f"'{alg}'" if isinstance(alg, str) and alg.isalnum() and len(alg) <= 16 else "of the token"
        raise Unauthenticated(INVALID, reason=f"the signing algorithm {named} is not accepted; only RS256 is")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise Unauthenticated(INVALID, reason="the token header has no kid")
    key = key_for_kid(kid)
    if key is None:
        raise Unauthenticated(INVALID, reason="the token was signed with an unknown key (kid)")
    try:
        claims: Mapping[str, Any] = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=list(audiences),
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "nbf", "iss", "aud"], "verify_iss": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated(EXPIRED, reason="the token has expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise Unauthenticated(INVALID, reason="the token is not valid yet (its nbf or iat is in the future)") from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthenticated(INVALID, reason="the token's audience is not accepted") from exc
    except jwt.InvalidSignatureError as exc:
        raise Unauthenticated(INVALID, reason="the token's signature is invalid") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthenticated(INVALID, reason=f"the token lacks the '{exc.claim}' claim") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated(INVALID, reason="the token could not be validated") from exc
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer_ok(issuer, claims):
        raise Unauthenticated(INVALID, reason="the token's issuer is not trusted")
    return claims


class PrincipalCache:
    """Verified principals by token, until the token expires: verification is per token, not per request."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._capacity = capacity

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        principal, expires = entry
        if time.time() >= expires + CLOCK_SKEW_SECONDS:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return principal

    def put(self, token: str, principal: Principal, expires: float) -> None:
        self._entries[token] = (principal, expires)
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
