"""schemathesis against /openapi.json: every operation, a bounded and seeded run, and nothing found.

Every generated request runs against a freshly reset service (no data, no fault rules, default
throttling) and carries a valid credential for the operation's security scheme. Every check runs: no
5xx, and only documented statuses, content types, headers and bodies; authentication is enforced
wherever the document says it is required.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import ALL_CHECKS
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from graphlang.services import Services
from tests.factories import Tokens

schemathesis.experimental.OPEN_API_3_1.enable()

MAX_EXAMPLES = 60


class LifespanOwnedElsewhere:
    """The app for schemathesis, whose client runs a lifespan around every request: here startup and
    shutdown are acknowledged without reaching the app, whose lifespan the ``client`` fixture owns."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            phase = message["type"].removeprefix("lifespan.")
            await send({"type": f"lifespan.{phase}.complete"})
            if phase == "shutdown":
                return


@pytest.fixture
def api_schema(client: TestClient) -> Any:
    return schemathesis.from_asgi("/openapi.json", LifespanOwnedElsewhere(client.app))


schema = schemathesis.from_pytest_fixture("api_schema")


@pytest.fixture
def credentials(tokens: Tokens, services: Services) -> dict[str, dict[str, str]]:
    """Valid headers for each security scheme of the document."""
    admin = {"x-graphlang-admin-token": services.admin_token}
    return {"bearer": {"Authorization": f"Bearer {tokens.delegated(scopes='User.ReadWrite.All')}"},
            "adminToken": admin, "adminBearer": admin}


def headers_for(case: Any, credentials: dict[str, dict[str, str]]) -> dict[str, str]:
    """The credentials of the first security scheme the operation accepts, or none."""
    requirements = case.operation.definition.raw.get("security", [])
    return dict(credentials[next(iter(requirements[0]))]) if requirements else {}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=False, database=None, deadline=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_operation_conforms_to_the_openapi_document(case: Any, client: TestClient,
                                                   credentials: dict[str, dict[str, str]]) -> None:
    reset = client.post("/_graphlang/reset", headers=credentials["adminToken"])
    assert reset.status_code == 200, reset.text
    case.call_and_validate(headers=headers_for(case, credentials), checks=ALL_CHECKS)
