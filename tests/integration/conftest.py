"""Fixtures for integration tests: a real `build/eddy serve` on port 0 with a temp data dir.

Tests talk to it over HTTP with `requests` and other real clients. Everything is hermetic:
each server gets its own data directory and port, and waits poll with a deadline.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
EDDY_BIN = os.environ.get("EDDY_BIN", str(ROOT / "build" / "eddy"))
LISTEN_RE = re.compile(r"eddy listening on (http://[0-9.:\[\]a-z]+)")


def wait_for(predicate, timeout=10.0, interval=0.01, what="condition"):
    """Polls `predicate` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Server:
    """One eddy server process. `start` may be called again after `kill` or `stop`."""

    def __init__(self, data_dir: Path, *args: str):
        self.data_dir = data_dir
        self.args = list(args)
        self.proc = None
        self.url = None
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        self.http = requests.Session()

    def start(self, *extra: str):
        self.log_path.write_text("")
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [EDDY_BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir),
             *self.args, *extra],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError(f"eddy exited with {self.proc.returncode}:\n{self.log()}")
            m = LISTEN_RE.search(self.log())
            return m.group(1) if m else None

        self.url = wait_for(listening, what="eddy to listen")
        wait_for(lambda: self.get("/healthz").status_code == 200, what="/healthz")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self):
        """kill -9: no chance to flush anything."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.http.close()
        self.http = requests.Session()

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)
        self.http.close()
        self.http = requests.Session()
        return self.proc.returncode

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        return self.http.request(method, self.url + path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def cli(self, *args, input=None, timeout=30):
        """Runs the eddy CLI against this server."""
        return subprocess.run([EDDY_BIN, "--endpoint", self.url, *args], input=input,
                              capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def make_server(tmp_path):
    servers = []

    def make(*args, name="data"):
        s = Server(tmp_path / name, *args)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.kill()


@pytest.fixture
def server(make_server):
    return make_server().start()


# Functions run as `nobody` when the tests run as root, so servers that run functions keep
# their data directory (and the functions' code) under a directory that user can traverse.
@pytest.fixture
def workdir():
    d = Path(tempfile.mkdtemp(prefix="eddy-fn-", dir="/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def fserver(workdir):
    """Starts servers whose data directories are under `workdir`."""
    servers = []

    def make(*args):
        s = Server(workdir / f"data{len(servers)}", *args)
        servers.append(s)
        return s.start()

    yield make
    for s in servers:
        s.kill()


def write_code(root: Path, name: str, files: dict) -> Path:
    """Writes a function's files ({relative path: text}) under root/code/name."""
    d = root / "code" / name
    d.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
        if rel == "bootstrap" or rel.endswith(".sh"):
            p.chmod(0o755)
    return d


def deploy(server, name, runtime, code_dir, handler=None, **fields):
    body = {"runtime": runtime, "code": {"path": str(code_dir)}, **fields}
    if handler:
        body["handler"] = handler
    r = server.put(f"/v1/functions/{name}", json=body)
    assert r.status_code in (200, 201), r.text
    return r.json()
