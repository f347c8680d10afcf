"""graphlang's benchmark: graphlang against the ceiling of its own stack, in one run.

    .venv/bin/python bench/run.py [--duration 10] [--rounds 2] [--connections 32] [--workers 2] [--scale]

It writes a data set as JSON Lines, loads it with ``graphlang import``, starts ``graphlang serve``
and the ceiling (a raw ASGI app answering every request with the bytes graphlang answered it with,
on the same server and worker settings), and runs each workload with wrk, alternating graphlang and
the ceiling round by round. It prints requests/s, p50, p99, errors, server RSS and the ratio to the
ceiling, p50 and p99 at one connection (with the ceiling's p99 there: the floor the machine's own
latency noise sets), and writes everything as JSON under bench/results/. Any request answered with a status the
workload does not expect makes the run INVALID, however fast it was.

``--scale`` repeats the graphlang runs on 1,000,000 users and 5,000,000 languages, and compares the
GET p50 latencies with those of the small data set.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GRAPHLANG = [sys.executable, "-m", "graphlang"]
TENANT = "0a5e0bd5-3a4f-4f6f-9d1c-6f1b2d3c4e5f"  # graphlang's default tenant, so the token's tenant
LEVELS = ["elementary", "conversational", "limitedWorking", "professionalWorking", "fullProfessional",
          "nativeOrBilingual"]
TAGS = ["en-US", "nb-NO", "fr-FR", "de-DE", "es-ES", "it-IT", "ja-JP", "pt-BR", "sv-SE", "fi-FI", "da-DK",
        "nl-NL"]
PATCH_BODY = '{"spoken":"fullProfessional","allowedAudiences":"organization"}'
POST_BODY = '{"tag":"en-GB","spoken":"conversational","written":"elementary"}'
LARGE_USERS = 1_000_000
SAMPLED_ITEMS = 2000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Throughput targets as a fraction of the ceiling, and latency limits (issue "Performance").
TARGETS = {"get_item": 0.30, "get_list": 0.25, "patch": 0.15, "create_delete": 0.10}
P99_LIMIT_MS = 25.0
C1_P99_LIMIT_MS = 2.0
SCALE_P50_LIMIT = 1.25
IMPORT_LIMIT_S = 120.0
RSS_LIMIT_MB = 250.0


@dataclass
class Dataset:
    users: int
    languages: int = 0
    list_user_ids: list[str] = field(default_factory=list)  # users with exactly 10 languages
    items: list[tuple[str, str]] = field(default_factory=list)  # (user id, language id), spread evenly
    write_user: str = ""  # owner of the POST/DELETE pairs


# -- the data set ---------------------------------------------------------------------------------


def write_dataset(path: Path, users: int, seed: int = 7) -> Dataset:
    """JSON Lines in graphlang's import format: each user, then its languages (five; ten for the
    first fifty, which the list workload reads). Values are plain ASCII, so lines are written as text."""
    rng = random.Random(seed)
    data = Dataset(users=users)
    sample_every = max(1, users // SAMPLED_ITEMS)
    created = "2026-01-01T00:00:00.0000000Z"

    def guid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    with path.open("w", buffering=1 << 20) as out:
        for index in range(users):
            user_id = guid()
            out.write(f'{{"type":"user","id":"{user_id}","tenantId":"{TENANT}",'
                      f'"userPrincipalName":"user{index}@bench.example","displayName":"User {index}"}}\n')
            count = 10 if index < 50 else 5
            for number in range(count):
                language_id = guid()
                out.write(f'{{"type":"language","userId":"{user_id}","id":"{language_id}",'
                          f'"tag":"{TAGS[number % len(TAGS)]}","spoken":"{rng.choice(LEVELS)}",'
                          f'"written":"{rng.choice(LEVELS)}","reading":"{rng.choice(LEVELS)}",'
                          f'"allowedAudiences":"organization","createdDateTime":"{created}",'
                          f'"lastModifiedDateTime":"{created}"}}\n')
                if number == 0 and index % sample_every == 0:
                    data.items.append((user_id, language_id))
            data.languages += count
            if index < 50:
                data.list_user_ids.append(user_id)
            elif index == 50:
                data.write_user = user_id
    return data


# -- processes ------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (Debian package)...", flush=True)
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        subprocess.run(install, capture_output=True, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


class RssSampler(threading.Thread):
    """The peak resident set of a process and its children (the workers), sampled twice a second."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self.stopped = threading.Event()

    def _tree(self) -> list[int]:
        pids = [self.pid]
        with contextlib.suppress(OSError):
            pids += [int(child) for child in
                     Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()]
        return pids

    def sample(self) -> int:
        """RSS of every process summed (pages shared between them counted in each), and PSS (each
        shared page split between the processes sharing it: what the server takes from the machine)."""
        rss = pss = 0
        for pid in self._tree():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        self.peak_kb = max(self.peak_kb, rss)
        self.peak_pss_kb = max(self.peak_pss_kb, pss)
        return rss

    def cpu_seconds(self) -> float:
        """User and system CPU time of the process and its children so far."""
        total = 0
        for pid in self._tree():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLOCK_TICKS

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            self.sample()


class Server:
    """A server process started with ``--port 0``: its first stdout line names its address."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True, env=env)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "http://" not in line:
            self.stop()
            raise SystemExit(f"server did not start: {' '.join(command)}: {line!r}")
        self.base = "http://" + line.split("http://", 1)[1].split()[0].split("/beta")[0].rstrip("/")
        self.sampler = RssSampler(self.process.pid)
        self.sampler.start()

    def wait_ready(self, path: str) -> None:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + path, timeout=2)  # loopback only
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"{self.base} did not become ready")

    def stop(self) -> None:
        self.sampler.stopped.set()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def peak_rss_mb(self) -> float:
        return self.sampler.peak_kb / 1024

    @property
    def peak_pss_mb(self) -> float:
        return self.sampler.peak_pss_kb / 1024


def fetch(base: str, token: str, method: str, path: str, body: str | None = None
          ) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request; returns the status, the response headers and the body."""
    request = urllib.request.Request(base + path, method=method, data=body.encode() if body else None,
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
        return response.status, response.getheaders(), response.read()


# -- wrk ------------------------------------------------------------------------------------------


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


def measured(wrk: str, server: Server, config: dict[str, Any], seconds: int, connections: int,
             workdir: Path) -> dict[str, Any]:
    """One wrk run, with the server's CPU time per request."""
    before = server.sampler.cpu_seconds()
    stats = run_wrk(wrk, server.base, config, seconds, connections, workdir)
    stats["server_cpu_us"] = (server.sampler.cpu_seconds() - before) / max(1, stats["requests"]) * 1e6
    return stats


def run_wrk(wrk: str, base: str, config: dict[str, Any], seconds: int, connections: int,
            workdir: Path) -> dict[str, Any]:
    config_file = workdir / f"wrk-{uuid.uuid4().hex}.lua"
    config_file.write_text("CONFIG = " + _lua(config) + "\n")
    threads = 1 if connections == 1 else 2
    result = subprocess.run(
        [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
         "-s", str(HERE / "workload.lua"), base, "--", str(config_file)],
        capture_output=True, text=True, check=False,
    )
    config_file.unlink(missing_ok=True)
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            stats: dict[str, Any] = json.loads(line)
            stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
            stats["valid"] = stats["bad_status"] == 0 and stats["socket_errors"] == 0 and stats["requests"] > 0
            return stats
    raise SystemExit(f"wrk failed: {result.stderr or result.stdout}")


# -- workloads ------------------------------------------------------------------------------------


def workloads(data: Dataset, token: str) -> dict[str, dict[str, Any]]:
    item_paths = [f"/beta/users/{user}/profile/languages/{language}" for user, language in data.items]
    return {
        "get_item": {"token": token, "paths": item_paths, "method": "GET", "expect": 200},
        "get_list": {"token": token, "method": "GET", "expect": 200,
                     "paths": [f"/beta/users/{user}/profile/languages" for user in data.list_user_ids]},
        "patch": {"token": token, "paths": item_paths[: max(1, len(item_paths) // 2)], "method": "PATCH",
                  "expect": 200, "body": PATCH_BODY},
        "create_delete": {"token": token, "mode": "create_delete", "body": POST_BODY, "paths": ["/"],
                          "collection": f"/beta/users/{data.write_user}/profile/languages"},
    }


def ceiling_bodies(base: str, token: str, plan: dict[str, dict[str, Any]], directory: Path) -> None:
    """What graphlang answers each workload with, headers and body, for the ceiling to answer with
    the same bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    collection = plan["create_delete"]["collection"]
    answers = {
        "item": fetch(base, token, "GET", plan["get_item"]["paths"][0]),
        "list": fetch(base, token, "GET", plan["get_list"]["paths"][0]),
        "patch": fetch(base, token, "PATCH", plan["patch"]["paths"][0], PATCH_BODY),
        "post": fetch(base, token, "POST", collection, POST_BODY),
    }
    assert answers["post"][0] == 201, answers["post"][0]
    answers["delete"] = fetch(base, token, "DELETE", f"{collection}/{json.loads(answers['post'][2])['id']}")
    for name, (_status, headers, body) in answers.items():
        # The server adds Connection itself, for this client's "Connection: close" and not for wrk's
        # keep-alive requests; every other header is the application's own.
        own = [[key.lower(), value] for key, value in headers if key.lower() != "connection"]
        (directory / f"{name}.headers.json").write_text(json.dumps(own))
        (directory / f"{name}.json").write_bytes(body)


def start_ceiling(workers: int, bodies: Path) -> Server:
    env = {**os.environ, "CEILING_BODIES": str(bodies), "PYTHONPATH": str(ROOT)}
    return Server([sys.executable, str(HERE / "ceiling.py"), "--workers", str(workers)], env)


def start_graphlang(env: dict[str, str], workers: int) -> Server:
    return Server([*GRAPHLANG, "serve", "--port", "0", "--workers", str(workers)], env)


# -- one data set ---------------------------------------------------------------------------------


def prepare(users: int, workdir: Path) -> tuple[dict[str, str], Dataset, float, str]:
    """Write and import the data set; returns the environment, the data set, the import time and a token."""
    data_dir = workdir / f"data-{users}"
    env = {**os.environ, "GRAPHLANG_DATA_DIR": str(data_dir), "GRAPHLANG_LOG_JSON": "true"}
    dataset_file = workdir / f"dataset-{users}.jsonl"
    print(f"writing a data set of {users:,} users...", flush=True)
    data = write_dataset(dataset_file, users)
    print(f"importing {data.languages:,} languages with 'graphlang import'...", flush=True)
    started = time.perf_counter()
    subprocess.run([*GRAPHLANG, "import", str(dataset_file)], env=env, check=True, stdout=subprocess.DEVNULL)
    import_seconds = time.perf_counter() - started
    dataset_file.unlink()
    print(f"imported in {import_seconds:.1f} s", flush=True)
    token = subprocess.run(
        [*GRAPHLANG, "token", "--user", "bench-admin@bench.example", "--scopes", "User.ReadWrite.All"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()
    return env, data, import_seconds, token


def measure(args: argparse.Namespace, users: int, wrk: str, workdir: Path, with_ceiling: bool
            ) -> dict[str, Any]:
    env, data, import_seconds, token = prepare(users, workdir)
    results: dict[str, Any] = {"users": users, "languages": data.languages, "import_seconds": import_seconds,
                               "workloads": {}}
    graphlang = start_graphlang(env, args.workers)
    ceiling: Server | None = None
    try:
        graphlang.wait_ready("/_graphlang/health")
        plan = workloads(data, token)
        if with_ceiling:
            ceiling_bodies(graphlang.base, token, plan, workdir / "ceiling")
            ceiling = start_ceiling(args.workers, workdir / "ceiling")
            ceiling.wait_ready("/")
        print_header()
        for name, config in plan.items():
            if args.only and name not in args.only:
                continue
            run_wrk(wrk, graphlang.base, config, args.warmup, args.connections, workdir)
            if ceiling is not None:
                run_wrk(wrk, ceiling.base, config, args.warmup, args.connections, workdir)
            rounds: dict[str, list[dict[str, Any]]] = {"graphlang": [], "ceiling": []}
            for _ in range(args.rounds):
                rounds["graphlang"].append(measured(wrk, graphlang, config, args.duration, args.connections,
                                                    workdir))
                if ceiling is not None:
                    rounds["ceiling"].append(measured(wrk, ceiling, config, args.duration, args.connections,
                                                      workdir))
            single = run_wrk(wrk, graphlang.base, config, max(3, args.duration // 2), 1, workdir)
            # The ceiling at one connection too: the floor the machine's own latency noise sets.
            ceiling_single = (run_wrk(wrk, ceiling.base, config, max(3, args.duration // 2), 1, workdir)
                              if ceiling is not None else None)
            results["workloads"][name] = summarise(name, rounds, single, ceiling_single)
            print_row(name, results["workloads"][name])
    finally:
        graphlang.stop()
        if ceiling is not None:
            ceiling.stop()
    results["server_peak_rss_mb"] = graphlang.peak_rss_mb
    results["server_peak_pss_mb"] = graphlang.peak_pss_mb
    results["ceiling_peak_rss_mb"] = ceiling.peak_rss_mb if ceiling is not None else None
    verdict = "ok" if graphlang.peak_rss_mb < RSS_LIMIT_MB else "over the limit"
    print(f"graphlang peak memory, all {1 + args.workers if args.workers > 1 else 1} processes: RSS summed "
          f"{graphlang.peak_rss_mb:.0f} MB (limit {RSS_LIMIT_MB:.0f} MB: {verdict}), PSS summed "
          f"{graphlang.peak_pss_mb:.0f} MB; import {import_seconds:.1f} s", flush=True)
    return results


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def summarise(name: str, rounds: dict[str, list[dict[str, Any]]], single: dict[str, Any],
              ceiling_single: dict[str, Any] | None = None) -> dict[str, Any]:
    ours, ceiling = rounds["graphlang"], rounds["ceiling"]
    rps = _mean([r["rps"] for r in ours])
    ceiling_rps = _mean([r["rps"] for r in ceiling])
    ratio = rps / ceiling_rps if ceiling_rps else None
    row = {
        "rps": rps,
        "p50_ms": _mean([r["p50_us"] for r in ours]) / 1000,
        "p99_ms": max(r["p99_us"] for r in ours) / 1000,
        "errors": sum(r["bad_status"] + r["socket_errors"] for r in ours) + single["bad_status"]
        + single["socket_errors"],
        "ceiling_rps": ceiling_rps or None,
        "ratio": ratio,
        "cpu_us": _mean([r["server_cpu_us"] for r in ours]),
        "ceiling_cpu_us": _mean([r["server_cpu_us"] for r in ceiling]) or None,
        "target": TARGETS[name],
        "c1_p50_ms": single["p50_us"] / 1000,
        "c1_p99_ms": single["p99_us"] / 1000,
        "ceiling_c1_p99_ms": ceiling_single["p99_us"] / 1000 if ceiling_single else None,
        "valid": all(r["valid"] for r in ours + ceiling) and single["valid"]
        and (ceiling_single is None or ceiling_single["valid"]),
        "rounds": rounds,
        "single": single,
        "ceiling_single": ceiling_single,
    }
    row["meets"] = {
        "ratio": ratio is not None and ratio >= TARGETS[name],
        "p99": row["p99_ms"] < P99_LIMIT_MS,
        "c1_p99": row["c1_p99_ms"] < C1_P99_LIMIT_MS,
    }
    return row


def print_header() -> None:
    print(f"{'workload':<14}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}{'ceiling':>9}{'ratio':>7}"
          f"{'target':>7}{'c1 p50':>8}{'c1 p99':>8}{'ceil c1':>8}{'cpu us':>8}{'ceil us':>8}  verdict", flush=True)


def print_row(name: str, row: dict[str, Any]) -> None:
    if not row["valid"]:
        verdict = "INVALID (unexpected statuses or socket errors)"
    else:
        missed = [what for what, met in row["meets"].items() if not met and (what != "ratio" or row["ratio"])]
        verdict = "ok" if not missed else "misses " + ", ".join(missed)
    ceiling = f"{row['ceiling_rps']:>9.0f}" if row["ceiling_rps"] else f"{'-':>9}"
    ratio = f"{row['ratio']:>7.1%}" if row["ratio"] else f"{'-':>7}"
    ceiling_cpu = f"{row['ceiling_cpu_us']:>8.0f}" if row["ceiling_cpu_us"] else f"{'-':>8}"
    ceiling_c1 = f"{row['ceiling_c1_p99_ms']:>8.2f}" if row["ceiling_c1_p99_ms"] else f"{'-':>8}"
    print(f"{name:<14}{row['rps']:>9.0f}{row['p50_ms']:>8.2f}{row['p99_ms']:>8.2f}{row['errors']:>7}{ceiling}"
          f"{ratio}{row['target']:>7.0%}{row['c1_p50_ms']:>8.2f}{row['c1_p99_ms']:>8.2f}{ceiling_c1}"
          f"{row['cpu_us']:>8.0f}{ceiling_cpu}  {verdict}", flush=True)


def compare_scale(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"import_seconds": large["import_seconds"],
                             "import_ok": large["import_seconds"] < IMPORT_LIMIT_S,
                             "server_peak_rss_mb": large["server_peak_rss_mb"],
                             "rss_ok": large["server_peak_rss_mb"] < RSS_LIMIT_MB}
    for name in ("get_item", "get_list"):
        if name in small["workloads"] and name in large["workloads"]:
            for key in ("p50_ms", "c1_p50_ms"):
                ratio = large["workloads"][name][key] / small["workloads"][name][key]
                found[f"{name}_{key}_ratio"] = ratio
                print(f"{name} {key.replace('_ms', '')} at {large['users']:,} users / at {small['users']:,} "
                      f"users: {ratio:.2f}x (limit {SCALE_P50_LIMIT}x)", flush=True)
    print(f"import of {large['languages']:,} languages: {large['import_seconds']:.1f} s "
          f"(limit {IMPORT_LIMIT_S:.0f} s)", flush=True)
    return found


def load_average() -> list[float]:
    return list(os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run [10]")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per workload and app [2]")
    parser.add_argument("--rounds", type=int, default=2, help="alternating graphlang/ceiling rounds [2]")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections [32]")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes, both apps [2]")
    parser.add_argument("--users", type=int, default=1000, help="users in the small data set [1000]")
    parser.add_argument("--scale", action="store_true",
                        help=f"also run on {LARGE_USERS:,} users and {5 * LARGE_USERS:,} languages")
    parser.add_argument("--only", nargs="*", choices=sorted(TARGETS), help="run only these workloads")
    parser.add_argument("--out", type=Path, default=None, help="JSON results file [bench/results/...]")
    args = parser.parse_args()
    wrk = ensure_wrk()
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "args": {k: v if isinstance(v, int | float | bool | list | type(None)) else str(v)
                 for k, v in vars(args).items()},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "revision": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                   text=True, check=False).stdout.strip(),
        "load_average_before": load_average(),
        "runs": [],
    }
    with tempfile.TemporaryDirectory(prefix="graphlang-bench-") as tmp:
        workdir = Path(tmp)
        small = measure(args, args.users, wrk, workdir, with_ceiling=True)
        report["runs"].append(small)
        if args.scale:
            shutil.rmtree(workdir / f"data-{args.users}", ignore_errors=True)
            large = measure(args, LARGE_USERS, wrk, workdir, with_ceiling=False)
            report["runs"].append(large)
            report["scale"] = compare_scale(small, large)
    report["load_average_after"] = load_average()
    report["valid"] = all(row["valid"] for run in report["runs"] for row in run["workloads"].values())
    out = args.out or HERE / "results" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"load average before/after: {report['load_average_before'][0]:.1f} / "
          f"{report['load_average_after'][0]:.1f} on {os.cpu_count()} cpus")
    print(f"{'VALID' if report['valid'] else 'INVALID'} run; results written to {out}")
    if not report["valid"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
