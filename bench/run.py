"""graphlang's benchmark: graphlang against the ceiling of its own stack, in one run.

    python bench/run.py [--duration 10] [--connections 32] [--workers 1] [--scale]

It builds a data set, loads it with ``graphlang import``, starts graphlang and the ceiling app (a raw
ASGI app returning the same bytes on the same server and worker settings), runs each workload with
wrk, interleaving graphlang and the ceiling, and prints requests/s, p50, p99, errors, server RSS and
the ratio to the ceiling. Results are also written as JSON under bench/results/. A run in which any
request got an unexpected status is reported as invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GRAPHLANG = [sys.executable, "-m", "graphlang"]
TENANT = "0a5e0bd5-3a4f-4f6f-9d1c-6f1b2d3c4e5f"
LEVELS = ["elementary", "conversational", "limitedWorking", "professionalWorking", "fullProfessional",
          "nativeOrBilingual"]
TAGS = ["en-US", "nb-NO", "fr-FR", "de-DE", "es-ES", "it-IT", "ja-JP", "pt-BR", "sv-SE", "fi-FI", "da-DK",
        "nl-NL"]
PATCH_BODY = '{"spoken":"fullProfessional","allowedAudiences":"organization"}'
POST_BODY = '{"tag":"en-GB","spoken":"conversational","written":"elementary"}'

TARGETS = {"get_item": 0.30, "get_list": 0.25, "patch": 0.15, "create_delete": 0.10}


@dataclass
class Dataset:
    users: int
    languages_per_user: int = 5
    list_users: int = 50  # users with exactly 10 languages, for the list workload
    user_ids: list[str] = field(default_factory=list)
    list_user_ids: list[str] = field(default_factory=list)
    items: list[tuple[str, str]] = field(default_factory=list)  # (user id, language id) samples


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (Debian package)...", flush=True)
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        subprocess.run(install, capture_output=True, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


def write_dataset(path: Path, users: int, seed: int = 7) -> Dataset:
    """JSON Lines in graphlang's import format: users, then languages in Graph's JSON shape."""
    rng = random.Random(seed)
    data = Dataset(users=users)
    sample_every = max(1, users // 2000)
    created = "2026-01-01T00:00:00.0000000Z"
    with path.open("w") as out:
        for index in range(users):
            user_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            out.write(json.dumps({"type": "user", "id": user_id, "tenantId": TENANT,
                                  "userPrincipalName": f"user{index}@bench.example",
                                  "displayName": f"User {index}"}) + "\n")
            count = 10 if index < data.list_users else data.languages_per_user
            for number in range(count):
                language_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                out.write(json.dumps({
                    "type": "language", "userId": user_id, "id": language_id,
                    "tag": TAGS[number % len(TAGS)], "spoken": rng.choice(LEVELS),
                    "written": rng.choice(LEVELS), "reading": rng.choice(LEVELS),
                    "allowedAudiences": "organization", "createdDateTime": created,
                    "lastModifiedDateTime": created,
                }) + "\n")
                if index % sample_every == 0 and number == 0:
                    data.items.append((user_id, language_id))
            if index < data.list_users:
                data.list_user_ids.append(user_id)
            elif len(data.user_ids) < 2000:
                data.user_ids.append(user_id)
    return data


class RssSampler(threading.Thread):
    """The peak resident set of a process and its children, sampled twice a second."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.stopped = threading.Event()

    def _tree(self) -> list[int]:
        pids = [self.pid]
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            pids += [int(child) for child in children]
        except OSError:
            pass
        return pids

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            total = 0
            for pid in self._tree():
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
                except OSError:
                    continue
            self.peak_kb = max(self.peak_kb, total)


def start(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    if "http://" not in line:
        process.kill()
        raise SystemExit(f"server did not start: {' '.join(command)}: {line!r}")
    base = line.split("http://", 1)[1].split()[0].split("/beta")[0]
    return process, f"http://{base}"


def wait_ready(base: str) -> None:
    import urllib.request

    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/_graphlang/health", timeout=1)  # noqa: S310
            return
        except OSError:
            time.sleep(0.1)


def run_wrk(wrk: str, base: str, config: dict[str, Any], duration: float, connections: int,
            workdir: Path) -> dict[str, Any]:
    config_file = workdir / f"wrk-{uuid.uuid4().hex}.lua"
    config_file.write_text("CONFIG = " + _lua(config) + "\n")
    threads = min(2, connections)
    result = subprocess.run(
        [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s",
         str(HERE / "workload.lua"), base, "--", str(config_file)],
        capture_output=True, text=True, check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            stats: dict[str, Any] = json.loads(line)
            stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
            stats["valid"] = stats["bad_status"] == 0 and stats["socket_errors"] == 0
            return stats
    raise SystemExit(f"wrk failed: {result.stderr or result.stdout}")


def _lua(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def workloads(data: Dataset, token: str) -> dict[str, dict[str, Any]]:
    item_paths = [f"/beta/users/{u}/profile/languages/{lang}" for u, lang in data.items]
    list_paths = [f"/beta/users/{u}/profile/languages" for u in data.list_user_ids]
    patch_paths = item_paths[: max(1, len(item_paths) // 2)]
    owner = data.user_ids[0]
    return {
        "get_item": {"token": token, "paths": item_paths, "method": "GET", "expect": 200},
        "get_list": {"token": token, "paths": list_paths, "method": "GET", "expect": 200},
        "patch": {"token": token, "paths": patch_paths, "method": "PATCH", "expect": 200, "body": PATCH_BODY},
        "create_delete": {"token": token, "paths": ["/"], "mode": "create_delete", "body": POST_BODY,
                          "collection": f"/beta/users/{owner}/profile/languages"},
    }


def sample_body(base: str, token: str, path: str) -> bytes:
    import urllib.request

    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        body: bytes = response.read()
        return body


def measure(args: argparse.Namespace, users: int, wrk: str, workdir: Path) -> dict[str, Any]:
    data_dir = workdir / f"data-{users}"
    env = {**os.environ, "GRAPHLANG_DATA_DIR": str(data_dir), "GRAPHLANG_ADMIN_TOKEN": "bench-admin"}
    dataset_file = workdir / f"dataset-{users}.jsonl"
    print(f"building a data set of {users:,} users...", flush=True)
    data = write_dataset(dataset_file, users)
    started = time.perf_counter()
    subprocess.run([*GRAPHLANG, "import", str(dataset_file)], env=env, check=True, stdout=subprocess.DEVNULL)
    import_seconds = time.perf_counter() - started
    print(f"imported in {import_seconds:.1f} s", flush=True)
    token = subprocess.run(
        [*GRAPHLANG, "token", "--user", "bench-admin@bench.example", "--scopes", "User.ReadWrite.All"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()

    worker_args = ["--workers", str(args.workers)] if args.workers > 1 else []
    graphlang, graphlang_base = start([*GRAPHLANG, "serve", "--port", "0", *worker_args], env)
    sampler = RssSampler(graphlang.pid)
    sampler.start()
    results: dict[str, Any] = {"users": users, "import_seconds": import_seconds, "workloads": {}}
    try:
        wait_ready(graphlang_base)
        plan = workloads(data, token)
        body_file = workdir / "ceiling-body.json"
        body_file.write_bytes(sample_body(graphlang_base, token, plan["get_item"]["paths"][0]))
        ceiling_env = {**env, "CEILING_BODY_FILE": str(body_file), "PYTHONPATH": str(ROOT)}
        ceiling, ceiling_base = start(
            [sys.executable, "-c", _CEILING_LAUNCHER, str(args.workers)], ceiling_env)
        try:
            for name, config in plan.items():
                if args.only and name not in args.only:
                    continue
                run_wrk(wrk, graphlang_base, config, 2, args.connections, workdir)  # warm-up
                rounds: dict[str, list[dict[str, Any]]] = {"graphlang": [], "ceiling": []}
                for _ in range(args.rounds):
                    rounds["graphlang"].append(run_wrk(wrk, graphlang_base, config, args.duration,
                                                       args.connections, workdir))
                    rounds["ceiling"].append(run_wrk(wrk, ceiling_base, config, args.duration,
                                                     args.connections, workdir))
                single = run_wrk(wrk, graphlang_base, config, max(3, args.duration / 2), 1, workdir)
                results["workloads"][name] = _summarise(rounds, single)
                _print_row(name, results["workloads"][name])
        finally:
            ceiling.terminate()
            ceiling.wait(10)
    finally:
        sampler.stopped.set()
        graphlang.terminate()
        graphlang.wait(15)
    results["server_peak_rss_mb"] = sampler.peak_kb / 1024
    print(f"graphlang peak RSS: {results['server_peak_rss_mb']:.0f} MB", flush=True)
    return results


_CEILING_LAUNCHER = """
import socket, sys, uvicorn
sock = socket.socket(); sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0)); sock.listen(2048); sock.set_inheritable(True)
print(f"ceiling listening on http://127.0.0.1:{sock.getsockname()[1]}/", flush=True)
workers = int(sys.argv[1])
config = uvicorn.Config("bench.ceiling:app", lifespan="on", log_level="warning", access_log=False,
                        server_header=False, date_header=False, workers=workers)
if workers > 1:
    from uvicorn.supervisors import Multiprocess
    Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]).run()
else:
    uvicorn.Server(config).run(sockets=[sock])
"""


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _summarise(rounds: dict[str, list[dict[str, Any]]], single: dict[str, Any]) -> dict[str, Any]:
    ours, ceiling = rounds["graphlang"], rounds["ceiling"]
    rps = _mean([r["rps"] for r in ours])
    ceiling_rps = _mean([r["rps"] for r in ceiling])
    return {
        "rps": rps,
        "p50_ms": _mean([r["p50_us"] for r in ours]) / 1000,
        "p99_ms": max(r["p99_us"] for r in ours) / 1000,
        "errors": sum(r["bad_status"] + r["socket_errors"] for r in ours),
        "ceiling_rps": ceiling_rps,
        "ratio": rps / ceiling_rps if ceiling_rps else 0.0,
        "c1_p50_ms": single["p50_us"] / 1000,
        "c1_p99_ms": single["p99_us"] / 1000,
        "valid": all(r["valid"] for r in ours) and single["valid"],
        "rounds": rounds,
    }


def _print_row(name: str, row: dict[str, Any]) -> None:
    target = TARGETS.get(name, 0)
    verdict = "INVALID" if not row["valid"] else ("ok" if row["ratio"] >= target else "below target")
    print(f"{name:<14} {row['rps']:>9.0f} rps  p50 {row['p50_ms']:>6.2f} ms  p99 {row['p99_ms']:>6.2f} ms  "
          f"errors {row['errors']:>4}  ceiling {row['ceiling_rps']:>8.0f}  ratio {row['ratio']:>5.1%} "
          f"(target {target:.0%})  c1 p99 {row['c1_p99_ms']:.2f} ms  {verdict}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved graphlang/ceiling rounds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (both apps)")
    parser.add_argument("--users", type=int, default=1000, help="users in the small data set")
    parser.add_argument("--scale", action="store_true",
                        help="also run the large data set (1,000,000 users, 5,000,000 languages)")
    parser.add_argument("--only", nargs="*", help="run only these workloads")
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    args = parser.parse_args()
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="graphlang-bench-") as tmp:
        workdir = Path(tmp)
        report: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                  "args": {k: str(v) for k, v in vars(args).items()}, "runs": []}
        small = measure(args, args.users, wrk, workdir)
        report["runs"].append(small)
        if args.scale:
            large = measure(args, 1_000_000, wrk, workdir)
            report["runs"].append(large)
            for name in ("get_item", "get_list"):
                if name in small["workloads"] and name in large["workloads"]:
                    ratio = large["workloads"][name]["p50_ms"] / small["workloads"][name]["p50_ms"]
                    print(f"{name} p50 at 1,000,000 users / at {args.users:,} users: {ratio:.2f}x "
                          "(target <= 1.25x)", flush=True)
    out = args.out or HERE / "results" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=lambda o: asdict(o) if hasattr(o, "__dataclass_fields__")
                              else str(o)))
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
