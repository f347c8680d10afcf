"""``graphlang serve --auth none``: loopback only, says so in its log, and acts as the configured user."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from graphlang.config import DEFAULT_TENANT
from graphlang.storage.store import derived_user_id
from tests.e2e.conftest import StartGraphlang
from tests.e2e.process import clean_env, graphlang_command

pytestmark = pytest.mark.e2e


def test_none_mode_warns_and_serves_every_request_as_the_configured_user(start_graphlang: StartGraphlang) -> None:
    server = start_graphlang(extra_args=["--auth", "none"], extra_env={"GRAPHLANG_NONE_USER": "nora@contoso.com"})
    profile = httpx.get(f"{server.base_url}/beta/me/profile", timeout=10)
    assert profile.status_code == 200, profile.text
    assert profile.json()["id"] == derived_user_id(DEFAULT_TENANT, "nora@contoso.com")
    assert "authentication is off (--auth none)" in server.logs()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_none_mode_refuses_to_bind_beyond_loopback(tmp_path: Path, host: str) -> None:
    env = clean_env(tmp_path / "data", "unused-admin-token")
    done = subprocess.run([*graphlang_command(), "serve", "--auth", "none", "--host", host, "--port", "0"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "only binds to a loopback address" in done.stderr
    assert "listening" not in done.stdout
