"""``serve --workers N``: N processes on one port, one admin token, metrics added up over all of them."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from graphlang.auth.keys import load_or_create
from graphlang.cli import main
from graphlang.services import derived_admin_token
from tests.e2e.process import GraphlangServer, clean_env, running_graphlang
from tests.ops.support import LANGUAGES, call, mint_token, run_graphlang, serving_pids, wait_for, worker_pids

REQUESTS = 12


def answered_ok(server: GraphlangServer) -> float:
    """The 200s of the languages route, as counted by /metrics."""
    text = call(server, "GET", "/metrics").text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "graphlang_http_requests_total"
               and sample.labels == {"route": LANGUAGES, "method": "GET", "status": "200"})


@pytest.mark.standalone
def test_workers_share_the_port_the_admin_token_and_the_metrics(tmp_path: Path) -> None:
    # No admin token configured: every worker derives the same one from the shared signing key.
    with running_graphlang(tmp_path, extra_args=["--workers", "2"],
                           extra_env={"GRAPHLANG_ADMIN_TOKEN": ""}) as server:
        wait_for(lambda: len(worker_pids(server)) == 2, "two workers running")
        token = mint_token(server)
        admin = derived_admin_token(load_or_create(server.data_dir / "signing-key.pem"))

        # Each on a new connection: the supervisor deals them to the workers in turn.
        for _ in range(REQUESTS):
            assert call(server, "GET", LANGUAGES, token=token).status_code == 200
        for _ in range(REQUESTS):
            assert call(server, "GET", "/_graphlang/requests", token=admin).status_code == 200

        workers = worker_pids(server)
        # Access lines and metrics are written at the end of the event-loop turn that answered.
        wait_for(lambda: serving_pids(server) == workers, "both workers' access lines")  # a sum over both
        wait_for(lambda: answered_ok(server) == REQUESTS, "every request counted")

        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == -signal.SIGTERM
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


@pytest.mark.standalone
def test_a_worker_that_dies_is_replaced(tmp_path: Path) -> None:
    with running_graphlang(tmp_path, extra_args=["--workers", "2"]) as server:
        wait_for(lambda: len(worker_pids(server)) == 2, "two workers running")
        token = mint_token(server)
        victim = min(worker_pids(server))
        os.kill(victim, signal.SIGKILL)

        wait_for(lambda: len(worker_pids(server)) == 2 and victim not in worker_pids(server),
                 "a new worker in place of the killed one")
        for _ in range(10):
            assert call(server, "GET", LANGUAGES, token=token).status_code == 200
        # The new worker is dealt connections too, once it is ready, not only the one that survived.
        wait_for(lambda: call(server, "GET", LANGUAGES, token=token).status_code == 200
                 and worker_pids(server) <= serving_pids(server), "both workers' access lines")


def test_several_workers_need_a_database_they_can_share() -> None:
    result = CliRunner().invoke(main, ["--database-url", "sqlite://", "serve", "--port", "0", "--workers", "2"])
    assert result.exit_code == 1
    assert "several workers need a shared database" in result.output


def test_workers_that_keep_failing_as_they_start_stop_the_server(tmp_path: Path) -> None:
    not_a_certificate = tmp_path / "junk.pem"
    not_a_certificate.write_text("not a certificate\n")
    env = clean_env(tmp_path / "data", "admin")
    failed = run_graphlang(env, "serve", "--port", "0", "--workers", "2", "--tls-cert", str(not_a_certificate),
                           "--tls-key", str(not_a_certificate))
    assert failed.returncode == 1
    assert "Error: the worker processes failed as they started; see the log above" in failed.stderr
    assert "workers keep exiting as soon as they start" in failed.stderr
