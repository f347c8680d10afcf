"""Instructions per request of a one-worker server under wrk, counted by callgrind.

    .venv/bin/python bench/instructions.py [--workload get_item] [--target graphlang|ceiling] [--seconds 10]

Timings on a shared machine move by a tenth or more from one run to the next; the number of
instructions a request takes does not (the same code, data and ``PYTHONHASHSEED`` give the same count
to within a fraction of a percent). This runs the server under valgrind's callgrind (about fifty
times slower), drives it with wrk at 32 connections so that event-loop turns answer several requests
as they do at full speed, and divides the instructions counted during the measured run by the
requests answered. The server's own user-space instructions only: the kernel's work (sockets, the
disk) is not counted. Needs valgrind (``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import GRAPHLANG, HERE, ROOT, TARGETS, Server, ceiling_bodies, ensure_wrk, prepare, run_wrk, workloads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default="get_item", choices=sorted(TARGETS))
    parser.add_argument("--target", default="graphlang", choices=["graphlang", "ceiling"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="graphlang-instructions-") as tmp:
        workdir = Path(tmp)
        env, data, _seconds, token = prepare(1000, workdir)
        env = {**env, "PYTHONHASHSEED": "0"}  # the same dict and set layouts in every run
        plan = workloads(data, token)
        counts = workdir / "callgrind.out"
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={counts}", "--vgdb=yes"]
        if args.target == "ceiling":
            plain = Server([*GRAPHLANG, "serve", "--port", "0", "--workers", "1"], env)
            try:
                plain.wait_ready("/_graphlang/health")
                ceiling_bodies(plain.base, token, plan, workdir / "ceiling")
            finally:
                plain.stop()
            ceiling_env = {**env, "CEILING_BODIES": str(workdir / "ceiling"), "PYTHONPATH": str(ROOT)}
            server = Server([*valgrind, sys.executable, str(HERE / "ceiling.py"), "--workers", "1"], ceiling_env)
            ready = "/"
        else:
            server = Server([*valgrind, *GRAPHLANG, "serve", "--port", "0", "--workers", "1"], env)
            ready = "/_graphlang/health"
        try:
            server.wait_ready(ready)
            config = plan[args.workload]
            run_wrk(wrk, server.base, config, 5, args.connections, workdir)  # warm-up, not counted
            pid = str(server.process.pid)
            subprocess.run(["callgrind_control", "--zero", pid], check=True, capture_output=True)
            stats = run_wrk(wrk, server.base, config, args.seconds, args.connections, workdir)
            subprocess.run(["callgrind_control", "--dump", pid], check=True, capture_output=True)
            time.sleep(1)
        finally:
            server.stop()
        dumps = sorted(workdir.glob("callgrind.out.*"), key=os.path.getmtime)
        if not dumps:
            raise SystemExit("callgrind wrote no counts")
        found = re.search(r"^(?:summary|totals): (\d+)", dumps[0].read_text(errors="replace"), re.MULTILINE)
        if found is None:
            raise SystemExit(f"no instruction total in {dumps[0].name}")
    requests = stats["requests"]
    verdict = "" if stats["valid"] else f"; INVALID: {stats['bad_status']} unexpected statuses"
    print(f"{args.target} {args.workload}: {int(found.group(1)) / requests / 1000:.1f}k instructions per request "
          f"({requests} requests counted{verdict})")


if __name__ == "__main__":
    main()
