"""Health and readiness are served in every mode, without a token, for load balancers and orchestrators."""

from __future__ import annotations

from dataclasses import replace

from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.config import Settings
from graphlang.services import create_services


def test_health_and_ready_are_on_in_service_mode_without_a_token(settings: Settings) -> None:
    service_mode = replace(settings, auth="oidc", control_api=None, oidc_issuer="https://login.example.com/t/v2.0",
                           oidc_jwks_url="https://login.example.com/t/keys")
    services = create_services(service_mode, auto_migrate=True)
    with TestClient(create_app(services.settings, services)) as client:
        assert client.get("/_graphlang/health").status_code == 200
        ready = client.get("/_graphlang/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert client.post("/_graphlang/reset").status_code == 404  # the rest of the control API is off
