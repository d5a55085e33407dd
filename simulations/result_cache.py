"""Results of long seeded simulations kept on disk, so that a result the book needs in four languages is simulated once.

The trust page fits two markets to published retention curves: a few hundred cohorts, two or three minutes of one
core. Each language of the book runs that page again, with the same code and the same seeds, and so gets the same
numbers. `remembered` keeps such a result in a folder and hands it back the next time it is asked for.

It is off unless the environment variable LOYALTY_LAB_RESULT_CACHE names a folder: `tools/book_site.py` sets it for
the book's builds (`_build/results`), and the tests set it for the book builds and the pages they run, never for the
tests of the model itself (a test that runs a seed twice to see the same numbers must really run it twice).

A result is keyed by what was asked (its arguments, as JSON) and by what computes it: the source of the `simulations`
package and its data files, and the versions of Python, numpy, scipy and numba. Change any of these and it is
computed afresh, in a folder of that version's own; the other versions' folders are removed then. Arguments that
are not plain JSON (an object, a generator) are never cached: their text need not say everything that matters.
Each result is one JSON file, written whole (a temporary file, then renamed); two processes asking for the same
result at once take turns, so it is computed once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import numbers
import os
import platform
import shutil
import tempfile
from pathlib import Path

CACHE_FOLDER = "LOYALTY_LAB_RESULT_CACHE"  # the environment variable that turns the cache on
PACKAGE = Path(__file__).resolve().parent
SOURCE_SUFFIXES = (".py", ".yaml", ".yml", ".csv", ".json")


@functools.cache
def code_version() -> str:
    """A hash of everything that computes a result: the package's code and data, and the numerical libraries."""
    import numba
    import numpy
    import scipy

    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts and "locales" not in path.parts:
            digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    versions = (platform.python_version(), numpy.__version__, scipy.__version__, numba.__version__)
    digest.update(" ".join(versions).encode())
    return digest.hexdigest()


def is_seed(value) -> bool:
    """True for a seed that fixes a run (a whole number): only such runs may be kept. None draws afresh each time."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def cache_folder() -> Path | None:
    folder = os.environ.get(CACHE_FOLDER, "").strip()
    return Path(folder) if folder else None


def remembered(kind: str, arguments: dict, compute):
    """`compute()`, or the result it gave before for the same `kind` and `arguments` (a dict of plain JSON values).

    The result must be plain JSON too (numbers, lists, dicts): it is what comes back the next time.
    """
    folder = cache_folder()
    try:
        asked = json.dumps([kind, arguments], sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):  # not plain JSON: never cached
        return compute()
    if folder is None:
        return compute()
    key = hashlib.sha256(asked.encode()).hexdigest()[:32]
    path = _this_version_folder(folder) / kind / f"{key}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _turn(path.with_suffix(".lock")):  # another process computing the same result finishes first
        kept = _read(path)
        if kept is not None:
            return kept
        result = compute()
        _write(path, result)
        return result


def _this_version_folder(folder: Path) -> Path:
    """`folder`'s subfolder for this version of the code; the first time a process asks, the other versions' results
    are removed (no code will ask for them again, short of going back to it), so the cache does not grow with edits."""
    version = code_version()[:16]
    if (folder, version) not in _PRUNED:
        _PRUNED.add((folder, version))
        for other in folder.glob("*") if folder.is_dir() else ():
            if other.is_dir() and other.name != version:
                shutil.rmtree(other, ignore_errors=True)
    return folder / version


_PRUNED: set = set()


def _read(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))["result"]
    except (OSError, ValueError, KeyError, TypeError):  # absent, or not a whole result: compute it again
        return None


def _write(path: Path, result) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"result": result}, out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _turn:
    """An exclusive lock on a file, for as long as the `with` block lasts (none where fcntl is missing: Windows)."""

    def __init__(self, path: Path):
        self.path, self.handle = path, None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:
            return self
        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self.handle is not None:
            self.handle.close()  # closing the file releases the lock
        return False
