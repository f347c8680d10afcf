"""Instructions per request of the ASGI application alone, counted by callgrind: no server, no sockets.

    .venv/bin/python bench/app_instructions.py [--workload get_item] [--requests 2600] [--per-turn 13]

The steadiest figure there is for comparing two versions of the code: the application is called as
``bench/inprocess.py`` calls it, with ``--per-turn`` requests answered in each turn of the event
loop (13 is what a turn answered on average at 32 connections), and callgrind counts only the
requests measured, not the start-up or the warm-up. The same code gives the same count to within a
few hundred instructions, with one exception: where objects land in memory moves it by up to 2% (the
hashes of some objects are their addresses), and that moves with anything that shifts the process's
memory, the size of its environment included. So each count is made at four memory layouts (four
sizes of an unused environment variable), and all four are printed with their median.

Compare two checkouts by running each's copy of this script, or one script with ``PYTHONPATH``
naming the other's ``src``. Needs valgrind (``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inprocess import build_calls, run_calls
from run import TARGETS, prepare, workloads

LAYOUTS = (0, 37, 300, 1111)  # characters of padding in the environment
ANSWERS = {200, 201, 204}  # what the workloads' requests are answered with


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default="get_item", choices=sorted(TARGETS))
    parser.add_argument("--requests", type=int, default=2600)
    parser.add_argument("--per-turn", type=int, default=13)
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # the process callgrind runs: a plan file
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve), args.workload, args.requests, args.per_turn)
        return
    with tempfile.TemporaryDirectory(prefix="graphlang-app-instructions-") as tmp:
        workdir = Path(tmp)
        env, data, _seconds, token = prepare(1000, workdir)
        plan = workdir / "plan.json"
        settings = {name: value for name, value in env.items() if name.startswith("GRAPHLANG")}
        plan.write_text(json.dumps({"env": settings, "plan": workloads(data, token)}))
        counts = [count(workdir, plan, args, padding) for padding in LAYOUTS]
    listed = ", ".join(f"{value / 1000:.1f}k" for value in counts)
    print(f"{args.workload}: {statistics.median(counts) / 1000:.1f}k instructions per request in process "
          f"(median of {listed}; {args.per_turn} requests a turn)")


def count(workdir: Path, plan: Path, args: argparse.Namespace, padding: int) -> float:
    out = workdir / f"callgrind-{padding}.out"
    env = {**os.environ, "PYTHONHASHSEED": "0", "GRAPHLANG_BENCH_LAYOUT": "x" * padding}
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--vgdb=yes", sys.executable,
               __file__, "--serve", str(plan), "--workload", args.workload, "--requests", str(args.requests),
               "--per-turn", str(args.per_turn)]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=env)
    assert child.stdin is not None and child.stdout is not None
    try:
        expect(child, "ready")
        subprocess.run(["callgrind_control", "--zero", str(child.pid)], check=True, capture_output=True)
        child.stdin.write("go\n")
        child.stdin.flush()
        expect(child, "done")
        subprocess.run(["callgrind_control", "--dump", str(child.pid)], check=True, capture_output=True)
        child.stdin.write("exit\n")
        child.stdin.flush()
        child.wait(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    dumps = sorted(workdir.glob(f"{out.name}*"), key=os.path.getmtime)
    found = re.search(r"^(?:summary|totals): (\d+)", dumps[0].read_text(errors="replace"), re.MULTILINE)
    if found is None:
        raise SystemExit(f"no instruction total in {dumps[0].name}")
    for dump in dumps:
        dump.unlink()
    return int(found.group(1)) / args.requests


def expect(child: subprocess.Popen[str], word: str) -> None:
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    if line != word:
        raise SystemExit(f"the measured process said {line!r}, not {word!r}")


def serve(plan_file: Path, workload: str, requests: int, per_turn: int) -> None:
    """In the process callgrind runs: warm up, then run the measured requests when told to."""
    document = json.loads(plan_file.read_text())
    os.environ.update(document["env"])
    from graphlang.app import create_app
    from graphlang.config import Settings
    from graphlang.ops.logs import configure_logging

    settings = Settings.from_env()
    out = sys.stdout
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - access lines are written, and discarded
    configure_logging(settings)
    app = create_app(settings)
    config = document["plan"][workload]
    loop = asyncio.new_event_loop()
    # Requests of a turn are in flight together, so that writes share commits as they do under load.
    loop.run_until_complete(run_calls(build_calls(app, workload, config, 1300, per_turn), ANSWERS, per_turn))
    calls = build_calls(app, workload, config, requests, per_turn)
    print("ready", file=out, flush=True)
    sys.stdin.readline()
    loop.run_until_complete(run_calls(calls, ANSWERS, per_turn))
    print("done", file=out, flush=True)
    sys.stdin.readline()
    app.services.close()


if __name__ == "__main__":
    main()
