"""A flame graph of one workload: py-spy samples a one-worker graphlang while wrk drives it.

    .venv/bin/python bench/flamegraph.py docs/perf/get-item.svg [--workload get_item] [--seconds 20]

Needs py-spy (``.venv/bin/pip install py-spy``) and permission to ptrace (root, or
``kernel.yama.ptrace_scope=0``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import TARGETS, ensure_wrk, prepare, run_wrk, start_graphlang, workloads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path, help="the SVG flame graph to write")
    parser.add_argument("--workload", default="get_item", choices=sorted(TARGETS))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--format", default="flamegraph", choices=["flamegraph", "raw", "speedscope"],
                        help="py-spy output format [flamegraph: SVG]")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="graphlang-profile-") as tmp:
        workdir = Path(tmp)
        env, data, _seconds, token = prepare(1000, workdir)
        server = start_graphlang(env, 1)
        try:
            server.wait_ready("/_graphlang/health")
            config = workloads(data, token)[args.workload]
            run_wrk(wrk, server.base, config, 2, args.connections, workdir)  # warm-up
            args.output.parent.mkdir(parents=True, exist_ok=True)
            recorder = subprocess.Popen([py_spy, "record", "--pid", str(server.process.pid), "--rate",
                                         str(args.rate), "--duration", str(args.seconds), "--format",
                                         args.format, "--output", str(args.output), "--nonblocking"])
            time.sleep(1)
            stats = run_wrk(wrk, server.base, config, args.seconds - 2, args.connections, workdir)
            recorder.wait()
        finally:
            server.stop()
    print(f"{args.workload}: {stats['rps']:.0f} requests/s while sampled, "
          f"{stats['bad_status']} unexpected statuses; flame graph in {args.output}")


if __name__ == "__main__":
    main()
