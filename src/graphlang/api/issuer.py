"""The emulator as an OpenID Connect issuer: discovery, JWKS and the token endpoint, Entra's paths.

These routes are public (a client calls them before it has a token) and exist only in emulator
mode. Token endpoint failures use OAuth 2.0's error shape, as Entra's do, not Graph's envelope.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote_plus

import orjson
from starlette.responses import Response

from graphlang.api.body import read_body
from graphlang.api.context import RequestContext
from graphlang.api.rendering import json_response
from graphlang.api.routing import Route
from graphlang.auth.grants import GRANTS, OAuthError, TokenEndpoint, TokenRequest

FORM_TYPE = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _tenant(params: Mapping[str, str]) -> str:
    return params["tenant"].strip().lower()


async def discovery(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    tenant = _tenant(params)
    base = f"{ctx.origin}/{tenant}"
    document = {
        "issuer": ctx.services.settings.emulator_issuer(tenant),
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        # MSAL reads this before any flow; graphlang has no interactive sign-in, so it answers 404.
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "grant_types_supported": list(GRANTS),
        "response_types_supported": ["token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["aud", "iss", "iat", "nbf", "exp", "tid", "oid", "sub", "scp", "roles", "azp",
                             "appid", "upn", "preferred_username", "name", "idtyp", "ver"],
        "tenant_region_scope": None,
        "cloud_instance_name": "graphlang.local",
    }
    return json_response(ctx, document)


async def jwks(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    return json_response(ctx, {"keys": [ctx.services.key.jwk()]})


async def token(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    services = ctx.services
    try:
        request = TokenRequest(_tenant(params), await _form(ctx), _basic_credentials(ctx))
        endpoint = TokenEndpoint(services.settings, services.key, services.store)
        body = await services.run(endpoint.issue, request)
    except OAuthError as error:
        return _oauth_error(ctx, error)
    return json_response(ctx, body, headers=NO_STORE)


async def _form(ctx: RequestContext) -> dict[str, str]:
    media = ctx.request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != FORM_TYPE:
        raise OAuthError(400, "invalid_request", f"The token endpoint takes a {FORM_TYPE} body.", 900144)
    raw = await read_body(ctx.request, ctx.services.settings.max_body_bytes)
    try:
        return dict(parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError as exc:
        raise OAuthError(400, "invalid_request", "The request body is not valid UTF-8.") from exc


def _basic_credentials(ctx: RequestContext) -> tuple[str, str] | None:
    scheme, _, value = ctx.request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, separator, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        separator = ""
    if not separator:
        raise OAuthError(401, "invalid_client", "The Basic authorization header is not base64 of "
                         "'client_id:client_secret'.", 7000218)
    return unquote_plus(client_id), unquote_plus(secret)


def _oauth_error(ctx: RequestContext, error: OAuthError) -> Response:
    """Entra's error response: the OAuth 2.0 fields plus its codes, time and trace ids."""
    body = {
        "error": error.error,
        "error_description": error.description,
        "error_codes": [error.code] if error.code is not None else [],
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        "trace_id": ctx.request_id,
        "correlation_id": ctx.client_request_id,
    }
    response = Response(orjson.dumps(body), status_code=error.status, media_type=None, headers=NO_STORE)
    response.headers["content-type"] = "application/json; charset=utf-8"
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="graphlang"'
    return response


ROUTES = (
    Route(("{tenant}", "v2.0", ".well-known", "openid-configuration"), {"GET": discovery}),
    Route(("{tenant}", "discovery", "v2.0", "keys"), {"GET": jwks}),
    Route(("{tenant}", "oauth2", "v2.0", "token"), {"POST": token}),
)
