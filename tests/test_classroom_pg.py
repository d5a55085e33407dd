"""The classroom on a real PostgreSQL server: a throwaway cluster (Debian's `postgresql` binaries) in a temporary
folder on a free port of 127.0.0.1, started for this module and stopped after it.

Runs the API tests' core (`test_classroom_api.CORE`) on a fresh database per test, and checks that two app
processes on one database never play the same round twice. Skipped, with the reason, when no cluster can start
(`make test` installs Debian's `postgresql` package first).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import test_classroom_api as api_tests
from classroom_helpers import free_port, instructor, wait_round

pytestmark = pytest.mark.slow

for _name in api_tests.CORE:  # the same tests, run here with the PostgreSQL `database_url` below
    globals()[_name] = getattr(api_tests, _name)
make_client, client = api_tests.make_client, api_tests.client


def _binaries() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _as_cluster_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user (Debian's package makes it)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="module")
def cluster():
    """A running throwaway cluster; yields its base URL (trust authentication, 127.0.0.1 only)."""
    binaries = _binaries()
    if binaries is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed (Debian package 'postgresql'; make test installs it)")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the cluster as")
    folder = Path(tempfile.mkdtemp(prefix="loyalty-lab-pg-"))
    if os.geteuid() == 0:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    data, port = folder / "data", free_port()
    run = {"capture_output": True, "text": True, "timeout": 120}
    made = subprocess.run(_as_cluster_owner([str(binaries / "initdb"), "-D", str(data), "-U", "postgres",
                                             "--auth=trust", "--encoding=UTF8", "--no-sync"]), **run)
    if made.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"initdb failed: {made.stderr.strip()[-300:]}")
    options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=200"
    started = subprocess.run(_as_cluster_owner([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                                                "-t", "60", "-l", str(folder / "server.log"), "start"]), **run)
    if started.returncode != 0:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else started.stderr
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"the PostgreSQL server did not start: {log.strip()[-300:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_cluster_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       **run)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database_url(cluster):
    """A new, empty database for each test, dropped after it."""
    import psycopg

    name = f"classroom_{secrets.token_hex(4)}"
    with psycopg.connect(f"{cluster}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{cluster}/{name}"
    with psycopg.connect(f"{cluster}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_app_processes_never_play_the_same_round_twice(make_client):
    """Two apps (two engines, two round workers) on one database; six impatient instructors click until the game ends."""
    first, second = make_client(), make_client()
    game, code = api_tests.new_game(first, rounds=4)
    api_tests.join(second, game, code, "red")
    api_tests.join(first, game, code, "blue")
    started, lock = [], threading.Lock()

    def click_until_over(app):
        for _ in range(400):  # bounded: 400 clicks of at most a few ms each
            answer = app.post(f"/api/games/{game}/rounds", headers=instructor())
            if answer.status_code == 202:
                with lock:
                    started.append(answer.json()["round"])
            elif answer.json()["error"]["allowed"].startswith("at most"):
                return  # the game is over
            time.sleep(0.005)

    clickers = [threading.Thread(target=click_until_over, args=(app,)) for app in (first, second) for _ in range(3)]
    for clicker in clickers:
        clicker.start()
    for clicker in clickers:
        clicker.join()
    assert sorted(started) == [1, 2, 3, 4]  # every round started once, none twice
    assert wait_round(first, game)["status"] == "idle"
    assert second.get(f"/api/games/{game}/leaderboard", headers=instructor()).json()["round"] == 4  # both apps see the same game
    assert len(first.get(f"/api/games/{game}/history", headers=instructor()).json()["history"]) == 2 * (4 * 3 + 1)
