"""Reading the course's YAML data files safely and helpfully, and writing output folders atomically."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

import yaml

from .errors import BadFile, DuplicateField, OutputError

# A hidden file in every output folder that loyalty-lab writes: `--force` only replaces folders that hold it
# (or that hold nothing but the kinds of files loyalty-lab writes), never a folder of someone's own files.
OUTPUT_MARKER = ".loyalty-lab-output"
OUTPUT_SUFFIXES = (".csv", ".md", ".png", ".yaml", ".yml", ".json")


# ---------------------------------------------------------------------------------------------- reading
class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader (data only, never code) that records every key given twice in a mapping, with lines."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []  # (key, line, first line), lines counted from 1
        self.key_lines: dict[str, int] = {}  # each key's first line, over all mappings (first seen wins)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                try:
                    key = self.construct_object(key_node, deep=True)
                    hash(key)
                except (TypeError, yaml.YAMLError):
                    continue  # unhashable keys: the safe loader reports them itself
                line = key_node.start_mark.line + 1
                if key in seen:
                    self.duplicates.append((str(key), line, seen[key]))
                else:
                    seen[key] = line
                    self.key_lines.setdefault(str(key), line)
        return super().construct_mapping(node, deep=deep)


def read_yaml_with_lines(path, owner: str | None = None) -> tuple[object, list[DuplicateField], dict[str, int]]:
    """The data in a YAML file, every key given twice in it (as `DuplicateField` errors, naming the line), and the
    line of each key (so that errors can be listed in the order of the file).

    Args:
        path: the file.
        owner: what the file holds ("strategy", "scenario"), named in the errors; default: the path.

    Raises:
        BadFile: the file cannot be read, or is not valid YAML; the message says where the problem is
            (line and column), which matters most for a tab or a missing bracket in a team's file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise BadFile(path, f"cannot be read ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise BadFile(path, "is not a text file (expected UTF-8 YAML)") from None
    loader = _StrictLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        if "\t" in text and "\\t" in str(err):  # PyYAML names the character as '\t'
            problem = f"{problem} (YAML does not allow tabs for indentation: use spaces)"
        raise BadFile(path, f"is not valid YAML ({where}{problem})") from None
    finally:
        loader.dispose()
    duplicates = [DuplicateField(owner or str(path), key, line, first) for key, line, first in loader.duplicates]
    return data, duplicates, loader.key_lines


def read_yaml(path):
    """The data in a YAML file, read safely (a file is data, never code); a key given twice is an error.

    Raises:
        BadFile: the file cannot be read or is not valid YAML.
        DuplicateField: a key is given twice (YAML would silently keep the last value); names the line.
    """
    data, duplicates, _ = read_yaml_with_lines(path)
    if duplicates:
        raise duplicates[0]
    return data


# ---------------------------------------------------------------------------------------------- writing
def is_replaceable_output(folder: Path) -> bool:
    """Whether `--force` may replace this folder: it is empty, holds loyalty-lab's marker, or holds only files of
    the kinds loyalty-lab writes (an earlier run made before the marker existed)."""
    entries = list(folder.iterdir())
    if any(entry.name == OUTPUT_MARKER for entry in entries):
        return True
    return all(entry.is_file() and entry.suffix.lower() in OUTPUT_SUFFIXES for entry in entries)


def _check_target(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise OutputError(folder, "is a file, not a folder", "a folder name")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise OutputError(folder, "already exists and is not empty",
                              "a new folder name, or add --force to replace that earlier output entirely")
        if not is_replaceable_output(folder):
            raise OutputError(folder, "holds files that loyalty-lab did not write, so --force will not replace it",
                              "a new folder name, or an earlier loyalty-lab output folder")


def _unwritable(folder: Path, err: OSError) -> OutputError:
    return OutputError(folder, f"cannot be written ({err.strerror or err})", "a folder in a place you can write to")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_RENAME_EXCHANGE = 2  # linux/fs.h: swap two paths in one step


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (Linux renameat2); False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_cwd = -100  # AT_FDCWD
    if renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    code = ctypes.get_errno()
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def _interrupts_deferred():
    """Hold Ctrl-C back while folders are swapped, then deliver it: the swap is never left half done."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _put_in_place(built: Path, folder: Path) -> None:
    """Move the finished folder to its place; an earlier folder there is replaced whole (no stale files)."""
    with _interrupts_deferred():
        if not folder.exists():
            os.rename(built, folder)
            return
        if _exchange(built, folder):  # now `built` holds the earlier run
            shutil.rmtree(built, ignore_errors=True)
            return
        old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-"))
        os.rename(folder, old / folder.name)
        os.rename(built, folder)
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path, force: bool = False, note: str = "written by loyalty-lab"):
    """Build an output folder in a temporary folder beside it, then rename it into place.

    Until the end, the target is untouched: an error or Ctrl-C (KeyboardInterrupt) while writing leaves an earlier
    folder exactly as it was and removes the temporary one. With `force`, an earlier output folder is replaced
    entirely, so no file of an earlier run is left beside the new ones.

        with atomic_folder("round1", force=True) as folder:
            (folder / "leaderboard.csv").write_text(...)

    Raises:
        OutputError: the target is a file, holds files and `force` is not given, holds files loyalty-lab did not
            write, or cannot be written (read-only, under a file, no permission, disk full).
    """
    shown = Path(path)
    _check_target(shown, force)
    folder = shown.resolve()
    here = Path.cwd().resolve()
    if folder == here or folder in here.parents:
        raise OutputError(shown, "is the current folder or holds it", "a folder inside the current one, e.g. round1")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-"))
        building.chmod(0o777 & ~_umask())  # mkdtemp's folder is private; an output folder is not
    except OSError as err:
        raise _unwritable(shown, err) from None
    try:
        (building / OUTPUT_MARKER).write_text(note + "\n", encoding="utf-8")
        yield building
        _put_in_place(building, folder)
    except OSError as err:
        raise _unwritable(shown, err) from None
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)


def atomic_write_text(path, text: str) -> Path:
    """Write a text file whole or not at all: write a temporary file beside it, then rename it into place."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path
