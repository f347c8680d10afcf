"""The emulator's token endpoint: OAuth 2.0 grants against the apps registered with ``graphlang apps``.

- ``client_credentials``: an app-only token carrying the app's registered roles. The scope must be
  ``<resource>/.default``, as Entra requires.
- ``password`` (resource owner password credentials): graphlang's test grant for delegated tokens,
  the flow MSAL's ``acquire_token_by_username_password`` and azure-identity's
  ``UsernamePasswordCredential`` use. The emulator keeps no passwords: any non-empty password is
  accepted, and the token carries exactly the delegated scopes requested.

Failures are ``OAuthError``s that carry Entra's error, AADSTS code and description.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from graphlang.auth.client_secrets import verify_secret
from graphlang.auth.keys import SigningKey
from graphlang.auth.tokens import DEFAULT_LIFETIME_SECONDS, mint, mint_id_token
from graphlang.config import Settings
from graphlang.storage.store import Row, Store, derived_user_id

GRANTS = ("client_credentials", "password")
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
NOT_A_TENANT = frozenset({"common", "organizations", "consumers"})
DEFAULT_SCOPE = ".default"


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, code: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = f"AADSTS{code}: {description}" if code is not None else description


def _missing(parameter: str) -> OAuthError:
    return OAuthError(400, "invalid_request",
                      f"The request body must contain the following parameter: '{parameter}'.", 900144)


@dataclass(frozen=True)
class TokenRequest:
    tenant: str
    form: Mapping[str, str]
    basic_credentials: tuple[str, str] | None = None  # client_secret_basic, from the Authorization header

    def require(self, name: str) -> str:
        value = self.form.get(name, "").strip()
        if not value:
            raise _missing(name)
        return value

    @property
    def client_id(self) -> str:
        if self.basic_credentials is not None:
            return self.basic_credentials[0]
        return self.require("client_id")

    @property
    def client_secret(self) -> str | None:
        if self.basic_credentials is not None:
            return self.basic_credentials[1]
        return self.form.get("client_secret") or None


class TokenEndpoint:
    def __init__(self, settings: Settings, key: SigningKey, store: Store) -> None:
        self.settings = settings
        self.key = key
        self.store = store

    def issue(self, request: TokenRequest) -> dict[str, Any]:
        """The token response for one request; blocking (database and scrypt), so run it on a worker."""
        if request.tenant in NOT_A_TENANT:
            raise OAuthError(400, "invalid_request", f"graphlang issues tokens for one tenant at a time; put a "
                             f"tenant id in the path instead of '{request.tenant}'.")
        grant = request.require("grant_type")
        if grant not in GRANTS:
            raise OAuthError(400, "unsupported_grant_type",
                             f"The app requested an unsupported grant type '{grant}'. graphlang supports "
                             f"{' and '.join(GRANTS)}.", 70003)
        app = self._client(request, confidential=grant == "client_credentials")
        if grant == "client_credentials":
            return self._app_only(request, app)
        return self._delegated(request, app)

    def _client(self, request: TokenRequest, *, confidential: bool) -> Row:
        client_id = request.client_id.lower()
        app = self.store.get_app(client_id)
        if app is None or app["tenant_id"] != request.tenant:
            raise OAuthError(400, "unauthorized_client",
                             f"Application with identifier '{client_id}' was not found in the directory "
                             f"'{request.tenant}'. Register it with 'graphlang apps add'.", 700016)
        secret = request.client_secret
        if app["secret_hash"] is None:
            if confidential:
                raise OAuthError(401, "invalid_client", f"The app '{client_id}' is a public client; the "
                                 "client_credentials grant needs an app registered with a secret.", 7000218)
            return app
        if secret is None:
            raise OAuthError(401, "invalid_client", "The request body must contain the following parameter: "
                             "'client_assertion' or 'client_secret'.", 7000218)
        if not verify_secret(secret, app["secret_hash"]):
            raise OAuthError(401, "invalid_client", "Invalid client secret provided. Ensure the secret being "
                             f"sent in the request is the client secret value for app '{client_id}'.", 7000215)
        return app

    def _resource(self, text: str) -> str:
        resource = text.rstrip("/")
        if resource not in self.settings.audiences:
            raise OAuthError(400, "invalid_resource",
                             f"The resource principal named {resource} was not found; graphlang issues "
                             f"tokens for {', '.join(self.settings.audiences)}.", 500011)
        return resource

    def _app_only(self, request: TokenRequest, app: Row) -> dict[str, Any]:
        scope = request.require("scope")
        resource, _, name = scope.rpartition("/")
        if len(scope.split()) != 1 or name != DEFAULT_SCOPE or not resource:
            raise OAuthError(400, "invalid_scope",
                             f"The provided value for scope {scope} is not valid. Client credential flows must "
                             "have a scope value with /.default suffixed to the resource identifier "
                             "(application ID URI).", 1002012)
        token = mint(self.key, issuer=self.settings.emulator_issuer(request.tenant),
                     audience=self._resource(resource), tenant=request.tenant, app_id=app["id"],
                     app_name=app["display_name"], roles=str(app["roles"]).split())
        return _token_response(token)

    def _delegated(self, request: TokenRequest, app: Row) -> dict[str, Any]:
        username = request.require("username")
        request.require("password")
        resource, scopes, oidc = self._delegated_scopes(request.require("scope"))
        user = directory_user(self.store, request.tenant, username, None)
        issuer = self.settings.emulator_issuer(request.tenant)
        token = mint(self.key, issuer=issuer, audience=resource, tenant=request.tenant, user_id=user["id"],
                     upn=user["user_principal_name"], name=user["display_name"], scopes=scopes,
                     app_id=app["id"], app_name=app["display_name"])
        response = _token_response(token)
        response["scope"] = " ".join(f"{resource}/{scope}" for scope in scopes)
        if "openid" in oidc:
            response["id_token"] = mint_id_token(self.key, issuer=issuer, client_id=app["id"],
                                                 tenant=request.tenant, user_id=user["id"],
                                                 upn=user["user_principal_name"], name=user["display_name"])
            info = orjson.dumps({"uid": user["id"], "utid": request.tenant})
            response["client_info"] = base64.urlsafe_b64encode(info).rstrip(b"=").decode()
        return response

    def _delegated_scopes(self, scope: str) -> tuple[str, list[str], set[str]]:
        """The one resource the scopes name, the delegated permissions, and the OpenID scopes."""
        resources: set[str] = set()
        names: list[str] = []
        oidc: set[str] = set()
        for item in scope.split():
            if item in OIDC_SCOPES:
                oidc.add(item)
                continue
            resource, _, name = item.rpartition("/")
            resources.add(self._resource(resource) if resource else self.settings.audiences[0])
            if name == DEFAULT_SCOPE:
                raise OAuthError(400, "invalid_scope",
                                 f"The provided value for the input parameter 'scope' is not valid: graphlang's "
                                 f"password grant issues exactly the delegated permissions requested, so name "
                                 f"them (for example {self.settings.audiences[0]}/User.ReadWrite) instead of "
                                 f"{item}.", 70011)
            names.append(name)
        if len(resources) > 1:
            raise OAuthError(400, "invalid_scope", "Provided value for the input parameter scope is not valid "
                             "because it contains more than one resource.", 28000)
        if not names:
            raise OAuthError(400, "invalid_scope", "The provided value for the input parameter 'scope' is not "
                             "valid: name at least one delegated permission, such as User.Read.", 70011)
        return resources.pop(), names, oidc


def _token_response(token: str) -> dict[str, Any]:
    return {"token_type": "Bearer", "expires_in": DEFAULT_LIFETIME_SECONDS,
            "ext_expires_in": DEFAULT_LIFETIME_SECONDS, "access_token": token}


def directory_user(store: Store, tenant_id: str, upn: str, name: str | None) -> Row:
    """The user with this UPN, added to the directory when missing. Raises ValueError on an id clash."""
    found = store.find_user(tenant_id, upn)
    if found is not None:
        return found
    return store.ensure_user(tenant_id, derived_user_id(tenant_id, upn), upn, name)
