"""The private Prefect API server a command starts when PREFECT_API_URL names none.

Real processes throughout: `rasid demo` against the demo site, its server found among its
children in /proc, Prefect's own SQLite database read afterwards.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_cli import free_port

SERVER_FACTORY = "rasid_flows.local_api:app"


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def servers_with_home(home: Path) -> list[int]:
    """Processes serving the private API for this Prefect home (however they were started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and SERVER_FACTORY in command_line(int(entry.name)):
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if f"PREFECT_HOME={home}".encode() in environ:
                found.append(int(entry.name))
    return found


def demo(tmp_path: Path, home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PREFECT_HOME": str(home),
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
    env.pop("PREFECT_API_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "rasid.cli", "demo", "--lake", str(tmp_path / "lake"),
         "--port", str(free_port())],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_run_records_its_flow_run_on_its_own_server_and_stops_it(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    process = demo(tmp_path, home)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    assert "Traceback" not in out + err
    assert servers_with_home(home) == []
    with sqlite3.connect(home / "prefect.db") as db:
        runs = db.execute("SELECT f.name, r.state_type FROM flow_run r JOIN flow f ON f.id = r.flow_id"
                          ).fetchall()
        tasks = db.execute("SELECT count(*) FROM task_run WHERE state_type = 'COMPLETED'").fetchone()
    assert runs == [("collect", "COMPLETED")]
    assert tasks[0] >= 5  # discovery per source, fetch, extract, check-and-write, commit, report


@pytest.mark.slow
def test_the_server_stops_when_the_command_is_killed(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    process = demo(tmp_path, home)
    try:
        deadline = time.monotonic() + 120
        server = []
        while not server and time.monotonic() < deadline and process.poll() is None:
            server = [pid for pid in children(process.pid) if SERVER_FACTORY in command_line(pid)]
            time.sleep(0.05)
        assert server, "the command started no API server of its own"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while alive(server[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(server[0]), "the API server outlived the command that started it"
    finally:
        process.kill()
        for pid in servers_with_home(home):  # first: a server left running holds the pipes
            os.kill(pid, signal.SIGKILL)
        process.communicate()


def test_no_server_is_started_when_prefect_already_has_an_api(prefect_harness: None) -> None:
    from prefect.settings import PREFECT_API_URL

    from rasid_flows.local_api import local_api

    configured = PREFECT_API_URL.value()
    with local_api() as api:
        assert api is None
        assert PREFECT_API_URL.value() == configured


def test_a_server_that_cannot_start_is_a_clear_error(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from rasid_flows.local_api import LocalAPI, LocalAPIError

    server = LocalAPI()
    server.start()
    try:
        server.process.kill()  # type: ignore[union-attr]
        server.process.wait()  # type: ignore[union-attr]
        monkeypatch.setattr(server, "start", lambda: None)  # every restart "fails" the same way
        with pytest.raises(LocalAPIError, match="exited with status"):
            server.wait_ready(timeout=30)
    finally:
        server.stop()
