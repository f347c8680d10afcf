"""``graphlang serve --port 0 --json``, ``--seed`` and ``--faults``, on a real server process."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from graphlang.cli import main
from graphlang.config import DEFAULT_TENANT
from tests.cli.serve_support import ADMIN_TOKEN, run_graphlang, serving

SEED = """\
users:
  - userPrincipalName: adele@contoso.com
    languages:
      - tag: nb-NO
        spoken: nativeOrBilingual
"""
FAULTS = '[{"method": "DELETE", "status": 503, "retryAfter": 2}]'


def test_serve_json_prints_one_line_with_the_base_url_token_endpoint_and_admin_token(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED)
    (tmp_path / "faults.json").write_text(FAULTS)
    args = ["--seed", str(tmp_path / "seed.yaml"), "--faults", str(tmp_path / "faults.json")]
    with serving(tmp_path / "server", args) as served:
        info = served.info
        url = info["url"]
        assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
        assert info["graph"] == f"{url}/beta"
        assert info["token_endpoint"] == f"{url}/{DEFAULT_TENANT}/oauth2/v2.0/token"
        assert info["admin_token"] == ADMIN_TOKEN
        assert info["control_api"] == f"{url}/_graphlang"
        admin = {"x-graphlang-admin-token": info["admin_token"]}
        faults = httpx.get(f"{url}/_graphlang/faults", headers=admin, timeout=10)
        assert faults.status_code == 200
        assert [(rule["method"], rule["status"]) for rule in faults.json()["value"]] == [(["DELETE"], 503)]
        state = httpx.get(f"{url}/_graphlang/snapshot", headers=admin, timeout=10).json()
        users = state["tables"]["users"]
        assert [row[users["columns"].index("user_principal_name")] for row in users["rows"]] == [
            "adele@contoso.com"]
        assert len(state["tables"]["languages"]["rows"]) == 1
        assert httpx.get(f"{url}/_graphlang/health", timeout=10).status_code == 200
        lines = served.stdout.read_text().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == info


def test_serve_refuses_a_seed_file_with_a_problem_naming_it(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text('{"users": [{"userPrincipalName": "a@contoso.com", "languages": [{"tag": 5}]}]}')
    done = run_graphlang(tmp_path / "data", "serve", "--port", "0", "--json", "--seed", str(seed))
    assert done.returncode == 1
    assert "users[0].languages[0]" in done.stderr and "tag" in done.stderr
    assert done.stdout == ""


def test_serve_needs_both_tls_options(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("not used")
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "serve", "--port", "0", "--tls-cert", str(cert)])
    assert result.exit_code == 2
    assert "--tls-cert and --tls-key" in result.output
