"""What a classroom server needs to know: where its data lives, its secrets and its limits."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

INSTRUCTOR_TOKEN_ENV = "LOYALTY_LAB_INSTRUCTOR_TOKEN"
PEPPER_ENV = "LOYALTY_LAB_TOKEN_PEPPER"
MONTH_PAUSE_ENV = "LOYALTY_LAB_MONTH_PAUSE"
MONTH_PAUSE_LIMIT = 5.0


@dataclass
class Settings:
    """A classroom server's settings.

    Args:
        data_dir: folder of the SQLite database and of the install's secrets (created if missing).
        instructor_token: the instructor's bearer token; None means LOYALTY_LAB_INSTRUCTOR_TOKEN from the environment,
            else the one kept in `data_dir` (made at first start).
        database_url: a SQLAlchemy URL; None means SQLite in `data_dir` (`postgresql://...` for several processes).
        max_body: the largest request body accepted, in bytes (413 above it).
        join_rate_limit: (failures, seconds): at most that many FAILED join attempts (a wrong join code or PIN) per
            client address in that window; successful joins are never limited (a lecture hall behind one NAT).
        token_pepper: secret mixed into every stored token hash; None means LOYALTY_LAB_TOKEN_PEPPER, else the data
            folder's (several app processes on several machines share it through the environment).
        month_pause: seconds the round worker waits after each simulated month; None means LOYALTY_LAB_MONTH_PAUSE,
            else 0. A round of the largest market takes about a second on the fast engine, too quick to watch its
            progress or to stop the server in the middle of it: the tests of both, and a demonstration of the
            console, slow the rounds down with it.
    """

    data_dir: Path | str = "classroom-data"
    database_url: str | None = None
    instructor_token: str | None = None
    max_body: int = 65536
    join_rate_limit: tuple[int, float] = (60, 60.0)
    token_pepper: str | None = None
    instructor_token_source: str = "given"  # or "environment", or "data folder" (made there; the command prints it)
    month_pause: float | None = None

    def __post_init__(self):
        self.data_dir = Path(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.database_url is None:
            self.database_url = f"sqlite:///{(self.data_dir / 'classroom.sqlite3').resolve()}"
        if not self.instructor_token and os.environ.get(INSTRUCTOR_TOKEN_ENV):
            self.instructor_token, self.instructor_token_source = os.environ[INSTRUCTOR_TOKEN_ENV], "environment"
        if not self.instructor_token:  # kept in the data folder, so a restart does not lock the instructor out
            self.instructor_token = _install_secret(self.data_dir / "instructor-token", secrets.token_urlsafe(24))
            self.instructor_token_source = "data folder"
        if self.month_pause is None:
            self.month_pause = _month_pause(os.environ.get(MONTH_PAUSE_ENV, "0"))
        if not self.token_pepper:
            self.token_pepper = os.environ.get(PEPPER_ENV) or _install_secret(self.data_dir / "token-pepper",
                                                                              secrets.token_hex(32))


def _month_pause(text: str) -> float:
    """The pause after each simulated month, from the environment, or a clear error naming what is allowed."""
    try:
        pause = float(text or 0)
    except ValueError:
        pause = float("nan")
    if not 0 <= pause <= MONTH_PAUSE_LIMIT:
        raise ValueError(f"{MONTH_PAUSE_ENV}={text!r}: a number of seconds from 0 to {MONTH_PAUSE_LIMIT:g}")
    return pause


def _install_secret(path: Path, new: str) -> str:
    """The secret kept in `path`, `new` on first use (readable by its owner only; written atomically)."""
    if not path.exists():
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others
        with os.fdopen(descriptor, "w") as file:
            file.write(new)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(partial, path)  # fails if another process made it first: then both use that one
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return path.read_text().strip()
