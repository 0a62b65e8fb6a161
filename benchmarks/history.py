"""The cost of a no-op run as the lake's history grows: it should stay flat.

    python benchmarks/history.py [--runs 0 1000 10000 35000] [--per-run 50] [--stores local s3]

For each size, a lake is synthesised as this version leaves it after that many collection
runs of ``--per-run`` articles: a checkpoint folding them (known ids with the last 30 days' and
a Bloom filter of them, body hashes, the near-duplicate window's signatures, live files, one
summary per run) and the log of numbered
manifests (stubs: no run reads a manifest a checkpoint folds), plus five runs committed after
the checkpoint in full. Then, in a fresh process, a run that finds nothing new: import what
a scheduled run imports (the ``collect`` flow's module), open the lake, read its state
(``load_state``), the last two weeks' run summaries (what the health flags and the report
read), and commit the empty run. It prints, as medians of ``--repeat`` (5) processes, the lake
side's wall time ("lake s"), the whole no-op process's ("run s": interpreter, imports and the
lake side) and its ratio to the empty lake's ("x fresh"), the process's peak RSS, and the
storage requests made (S3 operations counted with botocore's ``before-call`` event; local store
calls counted by a wrapper). "fold" is the time one writer in twelve spends folding a new
checkpoint (``CHECKPOINT_EVERY``), measured separately.

``--stores s3`` runs against moto's server on a loopback port. Discovery, fetching and the
report page are not part of this measure (they do not depend on the lake's history).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

DAY_RUNS = 96  # one run every 15 minutes
AFTER_CHECKPOINT = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[0, 1000, 10000, 35000])
    parser.add_argument("--per-run", type=int, default=50)
    parser.add_argument("--stores", nargs="+", default=["local", "s3"], choices=["local", "s3"])
    parser.add_argument("--repeat", type=int, default=5, help="no-op processes per lake")
    parser.add_argument("--workdir", help="where local lakes go (default: a temp dir)")
    parser.add_argument("--noop", help=argparse.SUPPRESS)  # the measured process
    parser.add_argument("--fold", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--questions", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.noop:
        print(json.dumps(measure(args.noop, args.questions, fold=args.fold)))
        return
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="rasid-history-"))
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}")
    print(f"{'store':>5} {'past runs':>9} {'articles':>9} {'lake s':>7} {'run s':>6} "
          f"{'x fresh':>7} {'peak MB':>8} {'+MB':>6} {'requests':>9}  {'by kind':<34} "
          f"{'fold s':>6}")
    for store in args.stores:
        with _endpoint(store) as env:
            fresh: dict[str, Any] | None = None
            for runs in args.runs:
                uri = _new_lake(store, workdir, runs, env)
                _synthesise(uri, runs, args.per_run, env)
                results = [_run(uri, env) for _ in range(args.repeat)]
                result = {key: statistics.median(r[key] for r in results)
                          for key in ("seconds", "run_seconds", "peak_mb")}
                result["requests"] = results[-1]["requests"]
                fold = _run(uri, env, fold=True)["seconds"]
                fresh = fresh or result
                kinds = " ".join(f"{k}={v}" for k, v in sorted(result["requests"].items()))
                print(f"{store:>5} {runs:>9,} {runs * args.per_run:>9,} {result['seconds']:>7.2f} "
                      f"{result['run_seconds']:>6.2f} "
                      f"{result['run_seconds'] / fresh['run_seconds']:>7.2f} "
                      f"{result['peak_mb']:>8.0f} {result['peak_mb'] - fresh['peak_mb']:>+6.0f} "
                      f"{sum(result['requests'].values()):>9}  {kinds:<34} {fold:>6.2f}",
                      flush=True)
    print(f"load after: {Path('/proc/loadavg').read_text().strip()}")


# --- the measured process -------------------------------------------------------------------


def measure(uri: str, questions: str, *, fold: bool) -> dict[str, Any]:
    import rasid_flows.collect  # noqa: F401  (what a scheduled run's process imports)
    from rasid import health, pipeline, report
    from rasid.storage import Lake, LocalStore, open_lake

    asked = json.loads(Path(questions).read_text())
    listed, unseen = asked["listed"], asked["unseen"]
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    if uri.startswith("s3://"):
        lake = open_lake(uri)
        # Every S3 operation the lake's client makes (one per call; retries not counted).
        lake.store._client.meta.events.register(
            "before-call.s3", lambda model, **_: counts.update([model.name]))
    else:
        lake = Lake(_Counting(LocalStore(Path(uri)), counts))
    if fold:
        summary = pipeline.RunSummary(run_id=pipeline.new_run_id(), started_at=datetime.now(UTC))
        pipeline.commit_run(lake, summary)
        started = time.perf_counter()
        lake.log.write_checkpoint()
        return {"seconds": time.perf_counter() - started}
    state = pipeline.load_state(lake)
    assert all(article_id in state.known_ids for article_id in listed)
    assert sum(article_id in state.known_ids for article_id in unseen) == 0
    runs = report.committed_runs(lake)
    health.flag_sources({}, runs)
    summary = pipeline.RunSummary(run_id=pipeline.new_run_id(), started_at=datetime.now(UTC))
    pipeline.commit_run(lake, summary)
    return {
        "seconds": time.perf_counter() - started,
        "peak_mb": _peak_mb(),
        "requests": dict(counts),
    }


def _questions(uri: str) -> tuple[list[str], list[str]]:
    """What a run asks of the state: are the URLs its feeds list known? 400 ids: those stored
    by the runs after the checkpoint, others found within the last weeks, and 20 never seen.
    Read by the benchmark's own process, so the measured one pays only for asking."""
    from rasid.storage import open_lake

    lake = open_lake(uri)
    listed = [r.article_id for m in lake.log.pending() for r in m.records]
    recent = lake.log.checkpoint_table(lake.log.checkpoint(), "recent").column("id")
    step = max(1, len(recent) // max(1, 380 - len(listed)))
    listed += [key.hex() for key in recent.to_pylist()[::step]][: 380 - len(listed)]
    return listed, [f"{0xFEED:016x}{n:016x}" for n in range(20)]


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the process's own address space;
    getrusage's ru_maxrss survives exec, so a child started by a large parent would report
    the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


class _Counting:
    """A local store that counts its calls, as S3 requests would be."""

    _NAMES: ClassVar[dict[str, str]] = {"get": "GetObject", "put": "PutObject", "exists": "HeadObject",
              "copy": "CopyObject", "delete": "DeleteObject", "scan": "ListObjectsV2",
              "list": "ListObjectsV2", "list_after": "ListObjectsV2"}

    def __init__(self, inner: Any, counts: Counter[str]) -> None:
        self.inner, self.counts = inner, counts

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in self._NAMES:
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[self._NAMES[name]] += 1
            return attribute(*args, **kwargs)
        return counted


def _run(uri: str, env: dict[str, str], fold: bool = False) -> dict[str, Any]:
    listed, unseen = _questions(uri)
    questions = Path(tempfile.mkdtemp(prefix="rasid-history-")) / "questions.json"
    questions.write_text(json.dumps({"listed": listed, "unseen": unseen}))
    command = [sys.executable, __file__, "--noop", uri, "--questions", str(questions),
               *(["--fold"] if fold else [])]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stderr)
    return dict(json.loads(done.stdout.strip().splitlines()[-1])) | {"run_seconds": elapsed}


# --- synthesising a lake ----------------------------------------------------------------------


def _synthesise(uri: str, runs: int, per_run: int, env: dict[str, str]) -> None:
    os.environ.update(env)
    from rasid import neardup, pipeline
    from rasid.storage import checkpoint as cp
    from rasid.storage import open_lake
    from rasid.storage.layout import CHECKPOINTS, LAST_CHECKPOINT, manifest_key

    lake = open_lake(uri)
    lake.log.checkpoint_every = 10**9  # the benchmark decides when a checkpoint is written
    rng = np.random.default_rng(runs)
    now = datetime.now(UTC).replace(microsecond=0)
    first = now - timedelta(minutes=15 * (runs + AFTER_CHECKPOINT))
    if runs:
        n = runs * per_run
        ids = np.sort(rng.integers(0, 256, (n, 16), dtype=np.uint8).view("S16").ravel())
        hashes = np.sort(rng.integers(0, 256, (n, 16), dtype=np.uint8).view("S16").ravel())
        window = min(runs, 7 * DAY_RUNS) * per_run
        near_ids = [ids[i].ljust(16, b"\0").hex() for i in range(n - window, n)]
        times = [(first + timedelta(minutes=15 * ((n - window + i) // per_run))).timestamp()
                 for i in range(window)]
        signatures = rng.integers(0, 1 << 16, (window, neardup.PERMUTATIONS), dtype=np.uint16)
        recent = min(runs, 30 * DAY_RUNS) * per_run
        tables = {
            "known": pa.table({"id": _fixed(ids)}),
            "recent": pa.table({"id": _fixed(ids[n - recent:]), "committed_at": [
                (first + timedelta(minutes=15 * ((n - recent + i) // per_run))).timestamp()
                for i in range(recent)]}),
            "bloom": cp.bloom_of(ids),
            "bodies": pa.table({"hash": _fixed(hashes),
                                "owner": pa.array([k.ljust(16, b"\0").hex()
                                                  for k in ids[rng.permutation(n)]])}),
            "near": pa.table({"article_id": near_ids,
                              "minhash": [neardup.encode(s) for s in signatures],
                              "cluster": near_ids, "published_at": times}),
            "clusters": pa.table({"cluster": near_ids, "earliest_id": near_ids,
                                  "earliest_at": times}),
            "files": pa.table({
                "kind": ["articles", "raw"] * runs,
                "key": [key for r in range(runs) for key in (
                    f"articles/source=s{r % 3}/published_date=2026-01-01/run{r}-0000-0.parquet",
                    f"raw/source=s{r % 3}/fetch_date=2026-01-01/run{r}-0000.warc.gz")]}),
            "validators": cp.empty("validators"),
        }
        folder = f"{CHECKPOINTS}/{runs:012d}-bench"
        keys = {name: f"{folder}/{name}.parquet" for name in tables}
        for name, table in tables.items():
            lake.store.put(keys[name], cp.encode_table(table.cast(cp.SCHEMAS[name])))
        segments = _run_segments(lake, folder, runs, per_run, first)
        descriptor = cp.Checkpoint(seq=runs, written_at=now.isoformat(), near_window_days=7,
                                   tables=keys, runs=segments)
        data = descriptor.model_dump_json(indent=1).encode()
        lake.store.put(f"{CHECKPOINTS}/{runs:012d}.json", data)
        lake.store.put(LAST_CHECKPOINT, data)
        stub = b'{"run_id": "r", "committed_at": "2026-01-01T00:00:00+00:00"}'
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda r: lake.store.put(manifest_key(r), stub),
                          range(1, runs + 1)))
    lake.log._checkpoint = None
    for k in range(AFTER_CHECKPOINT):  # committed after the checkpoint, in full
        started = first + timedelta(minutes=15 * (runs + k))
        summary = pipeline.RunSummary(run_id=f"{started:%Y%m%dT%H%M%SZ}-after{k}",
                                      started_at=started)
        summary.records = [_record(runs, k, i) for i in range(per_run)]
        summary.files = {"validations": [lake.write_bytes(f"reports/bench-{k}.json", b"{}")]}
        pipeline.commit_run(lake, summary)


def _run_segments(lake: Any, folder: str, runs: int, per_run: int, first: datetime) -> list[Any]:
    from rasid.storage import checkpoint as cp

    segments = []
    for n, start in enumerate(range(0, runs, cp.RUN_SEGMENT)):
        numbers = range(start, min(runs, start + cp.RUN_SEGMENT))
        started = [(first + timedelta(minutes=15 * r)).timestamp() for r in numbers]
        summaries = [json.dumps(_summary(r, per_run, first + timedelta(minutes=15 * r)))
                     for r in numbers]
        table = pa.table({"run_id": [f"run{r}" for r in numbers],
                          "seq": [r + 1 for r in numbers],
                          "operation": ["collect"] * len(numbers),
                          "started_at": started, "summary": summaries}, schema=cp.SCHEMAS["runs"])
        key = f"{folder}/runs-{n}.parquet"
        lake.store.put(key, cp.encode_table(table))
        segments.append(cp.RunSegment(key=key, first_seq=numbers[0] + 1, last_seq=numbers[-1] + 1,
                                      last_started=max(started), runs=len(numbers)))
    return segments


def _summary(run: int, per_run: int, started: datetime) -> dict[str, Any]:
    stats = {"discovered": 400, "new": per_run // 3, "fetched": per_run // 3,
             "extracted": per_run // 3, "stored": per_run // 3, "quarantined": 0, "failed": 0,
             "quarantine_reasons": {}, "failure_reasons": {}, "warnings": {}}
    return {
        "run_id": f"run{run}", "seq": run + 1, "operation": "collect",
        "started_at": started.isoformat(), "finished_at": started.isoformat(),
        "committed_at": started.isoformat(), "totals": {k: 3 * v for k, v in stats.items()
                                                        if isinstance(v, int)},
        "sources": {f"s{i}": stats for i in range(3)},
        "source_names": {f"s{i}": f"Source {i}" for i in range(3)},
        "urls": [f"https://s.example/{run}/{i}" for i in range(per_run)],
        "failures": [], "files": {}, "removes": {}, "checks": [],
    }


def _record(runs: int, k: int, i: int) -> dict[str, Any]:
    from rasid import neardup

    signature = np.random.default_rng(runs * 1000 + k * 100 + i).integers(
        0, 1 << 16, neardup.PERMUTATIONS, dtype=np.uint16)
    return {"article_id": f"{runs:012x}{k:010x}{i:010x}", "url": f"https://s.example/a/{k}/{i}",
            "source": "s0", "kind": "article", "body_hash": f"{runs:032x}{k:016x}{i:016x}",
            "title": "t", "minhash": neardup.encode(signature), "near_duplicate_cluster": None,
            "published_at": datetime.now(UTC).isoformat()}


def _fixed(keys: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(pa.binary(16), len(keys), [None, pa.py_buffer(keys.tobytes())])


def _new_lake(store: str, workdir: Path, runs: int, env: dict[str, str]) -> str:
    if store == "local":
        return str(workdir / f"lake-{runs}-{uuid.uuid4().hex[:6]}")
    import boto3

    bucket = f"history-{runs}-{uuid.uuid4().hex[:6]}"
    boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                 aws_access_key_id="bench", aws_secret_access_key="bench").create_bucket(
        Bucket=bucket)
    return f"s3://{bucket}/lake"


class _endpoint:
    """Environment variables for the store: moto's server on a loopback port for s3."""

    def __init__(self, store: str) -> None:
        self.store = store
        self.server: Any = None

    def __enter__(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.store == "s3":
            import logging

            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request

            self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self.server.start()
            host, port = self.server.get_host_and_port()
            env |= {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "bench",
                    "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
        return env

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stop()


if __name__ == "__main__":
    main()
