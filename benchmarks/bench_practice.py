"""Benchmark: one classroom process serving the practice page, on this machine only (127.0.0.1); stops by itself.

    .venv/bin/python benchmarks/bench_practice.py                        # SQLite in a temporary folder
    .venv/bin/python benchmarks/bench_practice.py --challenge ch08_capstone --gradings 3
    .venv/bin/python benchmarks/bench_practice.py --database-url postgresql://...

Starts the real server (`loyalty-lab classroom`, uvicorn) and prints its memory (VmRSS from /proc) idle, after one
practice page, and after each grading, with the seconds each grading took as the student waits for it (each a strategy not graded before). Gradings run
one at a time in a process (`GRADING` in classroom/pages.py), so 60 / seconds is the gradings a process holds a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def resident_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn runs the app in the process it starts)."""
    total = 0
    for task in [pid, *_children(pid)]:
        status = Path(f"/proc/{task}/status").read_text()
        total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
    return total / 1024


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in found.read_text().split()] if found.exists() else []


class Browser:
    """A cookie-keeping client (the pages set a CSRF cookie that a form must send back)."""

    def __init__(self, base: str):
        self.base, self.cookies = base, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=300) as answer:
            return answer.read().decode()

    def post(self, path: str, form: dict) -> str:
        with self.opener.open(self.base + path, urllib.parse.urlencode(form).encode(), timeout=300) as answer:
            return answer.read().decode()

    def cookie(self, name: str) -> str:
        return next(cookie.value for cookie in self.cookies if cookie.name == name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--challenge", default="ch03_tiering")
    parser.add_argument("--gradings", type=int, default=3)
    parser.add_argument("--lever", default="service_lead", help="a lever of the challenge, changed at each grading")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        command = [str(ROOT / ".venv" / "bin" / "loyalty-lab"), "classroom", "--port", str(port), "--data", data]
        if args.database_url:
            command += ["--database-url", args.database_url]
        env = os.environ | {"LOYALTY_LAB_INSTRUCTOR_TOKEN": "b" * 32, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            browser = Browser(f"http://127.0.0.1:{port}")
            for _ in range(300):
                try:
                    browser.get("/")
                    break
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.1)
            print(f"idle, after the home page: {resident_mb(server.pid):.0f} MB")
            browser.get(f"/practice?challenge={args.challenge}")
            print(f"after the practice page: {resident_mb(server.pid):.0f} MB")
            for number in range(1, args.gradings + 1):
                started = time.perf_counter()
                # a new value each time: a strategy graded before is answered from the grader's cache, not run
                form = {"csrf_token": browser.cookie("ll_csrf"), "challenge": args.challenge,
                        args.lever: f"{0.2 + 0.013 * number:.3f}"}
                page = browser.post("/practice", form)
                seconds = time.perf_counter() - started
                assert 'id="verdict"' in page
                print(f"grading {number} of {args.challenge}: {seconds:.1f} s, {resident_mb(server.pid):.0f} MB after it")
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
