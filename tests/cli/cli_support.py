"""Running the ``graphlang`` command in-process, isolated from the caller's GRAPHLANG_* settings."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner, Result

from graphlang.cli import main


def run_cli(data_dir: Path, *args: str) -> Result:
    """``graphlang --data-dir DATA_DIR ARGS...``; fails the test loudly on an unexpected crash."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GRAPHLANG_")}
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], env=unset, catch_exceptions=False)
    return result
