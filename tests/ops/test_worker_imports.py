"""``serve --workers N`` keeps out of its processes what serving does not need: each module a process
imports stays in its memory for as long as it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.process import clean_env, running_graphlang
from tests.ops.support import LANGUAGES, call, database, mint_token, run_graphlang, wait_for

# Imported by every Python process started with its directory on PYTHONPATH: an audit hook that logs
# which process imports a module of Alembic, or of Mako or Pygments (which Alembic imports).
IMPORT_SPY = """
import os
import sys

WATCHED = {"alembic", "mako", "pygments"}


def _spy(event, args):
    if event == "import" and args[0].partition(".")[0] in WATCHED:
        with open(os.environ["IMPORT_SPY_LOG"], "a") as log:
            log.write(f"{os.getpid()} {args[0]}\\n")


sys.addaudithook(_spy)
"""


def process_tree(pid: int) -> set[int]:
    return {pid, *(int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())}


@pytest.mark.standalone
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_supervisor_and_its_workers_do_not_import_alembic(tmp_path: Path, backend: str) -> None:
    spy_dir, spy_log = tmp_path / "spy", tmp_path / "imports.log"
    spy_dir.mkdir()
    (spy_dir / "sitecustomize.py").write_text(IMPORT_SPY)
    with database(backend, tmp_path) as url:
        extra = {"GRAPHLANG_DATABASE_URL": url, "PYTHONPATH": str(spy_dir), "IMPORT_SPY_LOG": str(spy_log)}
        # Migrating is Alembic's work, done here before the server starts, as an upgrade is.
        upgraded = run_graphlang(clean_env(tmp_path / "data", "admin", extra), "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        with running_graphlang(tmp_path, extra_args=["--workers", "2"], extra_env=extra) as server:
            wait_for(lambda: len(process_tree(server.process.pid)) == 3, "two workers running")
            serving = process_tree(server.process.pid)
            token = mint_token(server)
            for _ in range(6):  # each on a new connection, so the kernel spreads them over the workers
                assert call(server, "GET", LANGUAGES, token=token).status_code == 200
            assert call(server, "GET", "/_graphlang/health").status_code == 200

    imports = [line.split(" ", 1) for line in spy_log.read_text().splitlines()]
    assert any(module == "alembic" for _, module in imports)  # the spy saw the upgrade's
    assert [module for pid, module in imports if int(pid) in serving] == []
