"""`make run`, as the README tells a new user: serve on embedded defaults, Ctrl-C stops all."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _processes_with(var_dir: Path) -> list[int]:
    """Pids of the processes started with VAR_DIR=var_dir (the web server, worker and beat)."""
    marker = f"VAR_DIR={var_dir}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _untracked_and_changed() -> set[str]:
    """What git sees changed or new in the checkout (var/ and .venv/ are ignored)."""
    output = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(output.splitlines())


def _make_run_then_ctrl_c(port: int, var_dir: Path, log_path: Path) -> str:
    """`make run` as a new user types it; once all is up, Ctrl-C. Returns its output."""
    # A new user's environment: none of make test's PostgreSQL/Redis settings.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "VAR_DIR": str(var_dir),
    }
    log = log_path.open("w+b")
    make = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a terminal's foreground job
        # Ctrl-C as a terminal delivers it: a suite started in the background (nohup, `&` in a
        # script) ignores SIGINT, and a shell that inherits an ignored signal cannot trap it.
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and make.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/connexion/")
                break
            except OSError:
                time.sleep(0.5)
        log.seek(0)
        output = log.read().decode(errors="replace")
        assert status == 200, output
        assert "Connexion" in body.decode()
        assert "login: gestionnaire  password: gestionnaire-demo" in output
        assert (var_dir / "db.sqlite3").exists()

        status, body = _get(f"http://127.0.0.1:{port}/healthz")
        assert (status, json.loads(body)) == (
            200,
            {"status": "ok", "database": "ok", "broker": "ok", "static": "ok"},
        )

        # Wait until the worker and beat are up too, then press Ctrl-C.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            log.seek(0)
            output = log.read().decode(errors="replace")
            if " ready." in output and "beat: Starting" in output:
                break
            time.sleep(0.5)
        assert " ready." in output and "beat: Starting" in output, output
        started = _processes_with(var_dir)
        assert len(started) >= 4, started  # make, the script, runserver (+ reloader), worker, beat
        os.killpg(make.pid, signal.SIGINT)
        make.wait(timeout=60)  # run-dev.sh gives its processes 20 s, then kills them

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _processes_with(var_dir):
            time.sleep(0.5)
        assert _processes_with(var_dir) == []
        with pytest.raises(OSError):
            _get(f"http://127.0.0.1:{port}/connexion/")
        log.seek(0)
        return log.read().decode(errors="replace")
    finally:
        for pid in _processes_with(var_dir):
            os.kill(pid, signal.SIGKILL)
        log.close()


def test_it_serves_on_embedded_defaults_stops_on_ctrl_c_and_starts_again(tmp_path):
    var_dir = tmp_path / "var"
    before = _untracked_and_changed()

    first = _make_run_then_ctrl_c(_free_port(), var_dir, tmp_path / "first.log")
    second = _make_run_then_ctrl_c(_free_port(), var_dir, tmp_path / "second.log")

    assert "Applying contacts.0001_initial... OK" in first
    # The second run reuses the database and the demo data: nothing applied or added twice.
    assert "No migrations to apply." in second
    assert "correspondence: 0 demo items added" in second
    # Everything a run writes stays under VAR_DIR: the checkout is as it was.
    assert _untracked_and_changed() == before
