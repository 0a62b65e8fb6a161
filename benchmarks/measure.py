"""Running ``rasid`` as a user would, timed, with the memory of its whole process tree sampled."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import psutil

from corpus_site import HOSTS, CorpusSite, load_corpus

SAMPLE_SECONDS = 0.1
MIB = 1024 * 1024
_SUMMARY = re.compile(r"stored (\d+), quarantined (\d+), fetch failures (\d+) \(of (\d+) new URLs\)")


@dataclass
class Measured:
    seconds: float
    peak_tree_rss: int  # the largest sum of RSS over the process and all its descendants
    peak_process_rss: int  # the largest RSS of any one of them
    peak_processes: int
    rss_by_role: dict[str, int]  # each role's share of the tree's peak
    cpu_by_role: dict[str, float]  # user + system seconds: the command, its workers, Prefect
    stdout: str
    stderr: str

    def counts(self) -> dict[str, int]:
        """stored / quarantined / failed / new, from `rasid run`'s summary line."""
        found = _SUMMARY.search(self.stdout)
        if not found:
            raise RuntimeError(f"no summary line in rasid's output:\n{self.stdout}\n{self.stderr}")
        return dict(zip(("stored", "quarantined", "failed", "new"), map(int, found.groups()), strict=True))

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu_by_role.values())


def rasid_command() -> list[str]:
    script = Path(sys.executable).with_name("rasid")
    found = str(script) if script.exists() else shutil.which("rasid")
    if not found:
        raise SystemExit("the `rasid` command is not installed in this environment")
    return [found]


class _TreeSampler:
    """Peaks of the RSS of a process and all its descendants, and the CPU time each used (as
    last seen: a pool worker's CPU never reaches the root's rusage when its parent is the
    forkserver, which nobody waits for)."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_tree = self.peak_process = self.peak_processes = 0
        self.rss_by_role: dict[str, int] = {}
        # (pid, create time) -> (role, user + system seconds)
        self.cpu: dict[tuple[int, float], tuple[str, float]] = {}

    def sample(self) -> None:
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        total = count = 0
        by_role: dict[str, int] = {}
        for process in processes:
            try:
                with process.oneshot():
                    rss, times = process.memory_info().rss, process.cpu_times()
                    key = (process.pid, process.create_time())
                    role = self.cpu[key][0] if key in self.cpu else _role(process, self.root)
            except psutil.NoSuchProcess:  # ended between the listing and the reading
                continue
            self.cpu[key] = (role, times.user + times.system)
            self.peak_process = max(self.peak_process, rss)
            total, count = total + rss, count + 1
            by_role[role] = by_role.get(role, 0) + rss
        if total > self.peak_tree:
            self.peak_tree, self.rss_by_role = total, by_role
        self.peak_processes = max(self.peak_processes, count)


def run_measured(command: list[str], env: dict[str, str]) -> Measured:
    """Run ``command`` to completion; sample its process tree every 0.1 s."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    tree = _TreeSampler(child.pid)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            tree.sample()
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {child.returncode}:\n{stdout}\n{stderr}")
    by_role: dict[str, float] = {}
    for role, cpu in tree.cpu.values():
        by_role[role] = by_role.get(role, 0.0) + cpu
    return Measured(seconds, tree.peak_tree, tree.peak_process, tree.peak_processes,
                    tree.rss_by_role, by_role, stdout, stderr)


def _role(process: psutil.Process, root: psutil.Process) -> str:
    if process.pid == root.pid:
        return "command"
    line = " ".join(process.cmdline())
    if ("prefect" in line and ("uvicorn" in line or "server" in line)) or "local_api:app" in line:
        return "prefect server"
    return "workers" if "multiprocessing" in line else "other"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every run benchmark takes."""
    parser.add_argument("--prefect-server", action="store_true",
                        help="run against a running Prefect server, as deployments do")
    parser.add_argument("--workdir", help="where lakes and the Prefect home go (default: a temp dir)")


@contextmanager
def bench_for(args: argparse.Namespace) -> Iterator[Bench]:
    """The Bench the options ask for, with its Prefect server running if they ask for one."""
    bench = Bench(args.workdir)
    with bench.prefect_server() if args.prefect_server else nullcontext():
        print(f"machine: {machine()}; load {machine_note()}", flush=True)
        print("Prefect: " + (f"the server at {bench.prefect_api}" if bench.prefect_api
                             else "a temporary local server per run"), flush=True)
        yield bench


class Bench:
    """A working folder with its own Prefect home, and `rasid run` against a corpus site.

    By default each run starts Prefect's temporary local server, as `rasid run` does on a
    laptop; ``prefect_api`` points the runs at a running Prefect server instead, as scheduled
    deployments run (see ``prefect_server``)."""

    def __init__(self, workdir: str | None = None) -> None:
        self.root = Path(workdir or tempfile.mkdtemp(prefix="rasid-bench-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.corpus = load_corpus()
        self.hosts = HOSTS
        self.prefect_api: str | None = None
        self._runs = 0

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        # Its own Prefect database, so other users' runs on the machine do not share it.
        env.update({"PREFECT_HOME": str(self.root / "prefect-home"),
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
        return env

    def env(self, site: CorpusSite) -> dict[str, str]:
        env = self.base_env()
        env["RASID_ALLOW_PRIVATE_HOSTS"] = site.allowlist()
        if self.prefect_api:
            env["PREFECT_API_URL"] = self.prefect_api
        return env

    @contextmanager
    def prefect_server(self) -> Iterator[str]:
        """A `prefect server start` on loopback for the runs to report to."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = f"http://127.0.0.1:{port}/api"
        env = self.base_env() | {"PREFECT_SERVER_UI_ENABLED": "false"}
        prefect = Path(sys.executable).with_name("prefect")
        with (self.root / "prefect-server.log").open("wb") as log:
            server = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1",
                                       "--port", str(port)], env=env, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            while not _healthy(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Prefect server did not start: see {log.name}")
                time.sleep(0.5)
            self.prefect_api = url
            yield url
        finally:
            self.prefect_api = None
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)

    def rasid_reprocess(self, site: CorpusSite, lake: Path) -> Measured:
        """`rasid reprocess` over ``lake``: every stored page extracted again from its raw
        WARC, without the network (the site is only needed for its allowlist)."""
        command = [*rasid_command(), "reprocess", "--lake", str(lake)]
        measured = run_measured(command, self.env(site))
        self._runs += 1
        (self.root / f"reprocess-{self._runs}.log").write_text(measured.stderr, encoding="utf-8")
        return measured

    def rasid_run(self, site: CorpusSite, lake: Path) -> Measured:
        self._runs += 1
        sources = self.root / f"sources-{self._runs}.yaml"
        sources.write_text(site.sources_yaml(), encoding="utf-8")
        # The throughput is measured, not the verdict: flagged sources do not fail the run.
        command = [*rasid_command(), "run", "--sources", str(sources), "--lake", str(lake),
                   "--fail-on", "never"]
        measured = run_measured(command, self.env(site))
        # Its progress lines carry timestamps: where a slow run spent its time.
        (self.root / f"run-{self._runs}.log").write_text(measured.stderr, encoding="utf-8")
        return measured

    def warm_up(self) -> None:
        """One small run first: the Prefect database is created and migrated once, as on any
        machine that has run rasid before, and the OS has the libraries in its page cache."""
        with CorpusSite(self.corpus, 40) as site:
            self.rasid_run(site, self.root / "lake-warm-up")

    def cleanup(self, lake: Path) -> None:
        shutil.rmtree(lake, ignore_errors=True)


def _healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def mib(n: int) -> str:
    return f"{n / MIB:,.0f} MiB"


def machine_note() -> str:
    """The 1-minute load average: others' work on a shared machine shows here."""
    return f"{os.getloadavg()[0]:.1f}"


def machine() -> str:
    """The CPU model and the cores, for figures compared across days and machines."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next((line.split(":", 1)[1].strip() for line in info
                          if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"
