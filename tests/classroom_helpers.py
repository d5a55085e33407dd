"""Helpers for the classroom tests and benchmark: a real server in a subprocess, and a game driven over HTTP.

Every server listens on 127.0.0.1 only, on a free port; every loop here is bounded in count and time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
INSTRUCTOR = "instructor-token-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`loyalty-lab classroom` in a subprocess on 127.0.0.1; `kill()` is SIGKILL, as a crash would be."""

    def __init__(self, data_dir: Path, database_url: str | None = None, port: int | None = None,
                 month_pause: float = 0.0):
        self.data_dir, self.database_url, self.port = Path(data_dir), database_url, port or free_port()
        self.month_pause = month_pause  # seconds after each simulated month (Settings.month_pause)
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout: float = 60.0) -> "Server":
        command = [sys.executable, "-m", "simulations.cli", "classroom", "--host", "127.0.0.1",
                   "--port", str(self.port), "--data", str(self.data_dir)]
        if self.database_url:
            command += ["--database-url", self.database_url]
        env = os.environ | {"LOYALTY_LAB_INSTRUCTOR_TOKEN": INSTRUCTOR, "LOYALTY_LAB_MONTH_PAUSE": str(self.month_pause),
                            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.log = open(self.data_dir.parent / f"server-{self.port}-{time.time_ns()}.log", "w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped at start: {Path(self.log.name).read_text()}")
            try:
                if httpx.get(f"{self.url}/api/levers", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, exactly as when the machine loses the process."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        if not self.log.closed:
            self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def instructor() -> dict:
    return {"Authorization": f"Bearer {INSTRUCTOR}"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def wait_round(client, game: str, timeout: float = 120.0) -> dict:
    """Poll the round status until the round is no longer running; returns the last status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/api/games/{game}/rounds").json()
        if status["status"] != "running":
            return status
        time.sleep(0.1)
    raise AssertionError(f"round still running after {timeout} s: {status}")


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile by the nearest-rank method (p95 of 80 values is the 76th smallest)."""
    ordered = sorted(values)
    rank = max(1, int(-(-share * len(ordered) // 1)))
    return ordered[rank - 1]
