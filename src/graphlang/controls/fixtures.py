"""The seed fixture format (JSON or YAML), read into what ``storage.seed`` loads.

    tenantId: 0a5e0bd5-...            # optional: the tenant of the entries below [the default tenant]
    users:
      - userPrincipalName: adele@contoso.com
        displayName: Adele Vance      # optional
        id: 5f0c...                   # optional: the token's oid [derived from the UPN, as
                                      #   `graphlang token` derives it]
        languages:                    # languageProficiency objects, exactly as POST takes them,
          - tag: en-US                #   plus an optional fixed `id`
            spoken: nativeOrBilingual
    apps:
      - id: 11111111-2222-3333-4444-555555555555   # the application (client) id
        displayName: HR sync
        roles: [User.ReadWrite.All]   # application permissions it may be granted
        secret: a-test-secret         # optional: stored only as a hash

Every problem is a 400 naming where it is (``users[0].languages[1]: ...``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from graphlang.api.languages import actor_identity
from graphlang.auth.client_secrets import hash_secret
from graphlang.auth.principal import Principal
from graphlang.errors import BadRequest
from graphlang.model.validation import body_id, parse_changes
from graphlang.storage.seed import Fixture, SeedApp, SeedLanguage, SeedUser
from graphlang.storage.store import derived_user_id

TOP_LEVEL = ("tenantId", "users", "apps")
USER_MEMBERS = ("userPrincipalName", "displayName", "id", "tenantId", "languages")
APP_MEMBERS = ("id", "displayName", "tenantId", "roles", "secret")


def _object(where: str, value: object, members: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadRequest(f"{where} must be an object.")
    for key in value:
        if key not in members:
            raise BadRequest(f"{where} has an unknown member '{key}'; the members are {', '.join(members)}.")
    return value


def _list(where: str, value: object) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"{where} must be a list.")
    return value


def _text(where: str, value: object, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{where} must be a non-empty string.")
    return value.strip()


def _guid(where: str, value: object) -> str | None:
    text = _text(where, value)
    if text is None:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError as exc:
        raise BadRequest(f"{where} must be a GUID, got '{text}'.") from exc


def _roles(where: str, value: object) -> str:
    if value is None:
        return ""
    names = value.split() if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        raise BadRequest(f"{where} must be a list of permission names.")
    return " ".join(names)


def _language(where: str, value: object) -> SeedLanguage:
    try:
        changes = parse_changes(value)
    except BadRequest as exc:
        raise BadRequest(f"{where}: {exc.message}") from exc
    assert isinstance(value, Mapping)
    language_id = body_id(value)
    return SeedLanguage(None if language_id is None else _guid(f"{where}.id", language_id), changes)


def _user(where: str, value: object, default_tenant: str) -> SeedUser:
    entry = _object(where, value, USER_MEMBERS)
    tenant = _guid(f"{where}.tenantId", entry.get("tenantId")) or default_tenant
    upn = _text(f"{where}.userPrincipalName", entry.get("userPrincipalName"), required=True)
    assert upn is not None
    user_id = _guid(f"{where}.id", entry.get("id")) or derived_user_id(tenant, upn)
    name = _text(f"{where}.displayName", entry.get("displayName"))
    actor = actor_identity(Principal(tenant, user_id, upn, name, None, None, frozenset(), frozenset()))
    languages = [_language(f"{where}.languages[{index}]", item)
                 for index, item in enumerate(_list(f"{where}.languages", entry.get("languages")))]
    return SeedUser(user_id, tenant, upn, name, actor, languages)


def _app(where: str, value: object, default_tenant: str) -> SeedApp:
    entry = _object(where, value, APP_MEMBERS)
    app_id = _text(f"{where}.id", entry.get("id"), required=True)
    assert app_id is not None
    secret = _text(f"{where}.secret", entry.get("secret"))
    return SeedApp(
        id=app_id.lower(),
        tenant_id=_guid(f"{where}.tenantId", entry.get("tenantId")) or default_tenant,
        display_name=_text(f"{where}.displayName", entry.get("displayName")),
        roles=_roles(f"{where}.roles", entry.get("roles")),
        secret_hash=None if secret is None else hash_secret(secret),
    )


def parse_fixture(document: object, default_tenant: str) -> Fixture:
    top = _object("The fixture", document, TOP_LEVEL)
    tenant = _guid("tenantId", top.get("tenantId")) or default_tenant.lower()
    return Fixture(
        users=[_user(f"users[{index}]", item, tenant) for index, item in enumerate(_list("users", top.get("users")))],
        apps=[_app(f"apps[{index}]", item, tenant) for index, item in enumerate(_list("apps", top.get("apps")))],
    )
