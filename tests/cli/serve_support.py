"""Starting ``graphlang serve --port 0 --json`` as a real process, and always stopping it."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.process import _stop as stop
from tests.e2e.process import clean_env, graphlang_command

STARTUP_SECONDS = 30
ADMIN_TOKEN = "serve-test-admin-token"


@dataclass
class Served:
    info: dict[str, Any]  # the JSON line
    stdout: Path
    stderr: Path


def run_graphlang(data_dir: Path, *args: str, extra_env: Mapping[str, str] | None = None
                  ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*graphlang_command(), *args], env=clean_env(data_dir, ADMIN_TOKEN, extra_env),
                          capture_output=True, text=True, timeout=60, check=False)


@contextmanager
def serving(root: Path, args: Sequence[str] = (), extra_env: Mapping[str, str] | None = None) -> Iterator[Served]:
    root.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = root / "stdout.log", root / "stderr.log"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen([*graphlang_command(), "serve", "--port", "0", "--json", *args],
                                   env=clean_env(root / "data", ADMIN_TOKEN, extra_env), stdout=stdout,
                                   stderr=stderr, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "\n" not in stdout_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"graphlang serve printed no line: {stderr_path.read_text()}")
            time.sleep(0.05)
        yield Served(json.loads(stdout_path.read_text().split("\n", 1)[0]), stdout_path, stderr_path)
    finally:
        stop(process)
