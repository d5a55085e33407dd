"""Shared test machinery: every MyST notebook in book/ runs under nbval, and one book build serves all book tests.

Notebooks: nbval reads only `.ipynb`, so a small plugin reads each MyST notebook under `book/` (an `.md`
whose front matter has a `kernelspec`) with jupytext and hands it to nbval's collector, in lax mode: every
cell must run without error, outputs are not compared (the assertions live in the cells). All cells of one
notebook share a kernel, so they are put in one xdist group and run on one worker, in order.

The plugin is registered globally from `pytest_configure`, because hooks of a conftest in `tests/` would
only see files under `tests/`. Running one page on its own:

    .venv/bin/python -m pytest -p tests.conftest book/ch02_loyalty_ladder.md

The book: `built_book` (session fixture) runs `jupyter-book build . -W -n --keep-going` once, from a clean
state, and every test that needs the HTML uses it. Those tests sit in the xdist group "book", so under
`pytest -n 2 --dist loadgroup` they share one worker and the book is built once per run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
BUILD = ROOT / "_build"
HTML = BUILD / "html"
BOOK_GROUP = "book"  # the xdist group of the book build and every test that reads the built HTML
NOTEBOOK_CELL_TIMEOUT = 180  # seconds, the same per-cell limit as the book build (_config.yml)
PLUGIN_NAME = "loyalty-lab-myst-notebooks"
# The book's long seeded simulations, kept for this test run only (simulations/result_cache.py): the book's four
# builds and the pages run under nbval simulate each once. Never set for the tests themselves, nor for a download
# run in a bare environment: those must simulate.
RESULTS = BUILD / "results"
SPHINX_PROBLEM = re.compile(r"(?:^|: )(?:WARNING|ERROR|CRITICAL|SEVERE): ")
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def is_myst_notebook(path: Path) -> bool:
    """True for a `.md` file whose YAML front matter declares a kernelspec (a MyST notebook)."""
    if path.suffix != ".md":
        return False
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return False
    end = text.find("\n---", 3)
    return end > 0 and "kernelspec" in text[3:end]


def book_notebooks() -> list[Path]:
    """Every MyST notebook under book/, sorted."""
    return sorted(p for p in BOOK.rglob("*.md") if "_build" not in p.parts and is_myst_notebook(p))


def book_page_environment() -> dict[str, str]:
    """What the book's builds and the pages run under nbval add to the environment: this run's result cache."""
    from simulations.result_cache import CACHE_FOLDER

    return {CACHE_FOLDER: str(RESULTS), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


def _make_notebook_collector():
    """nbval's file collector, taught to read MyST notebooks with jupytext (imported lazily)."""
    import jupytext
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel
    from nbval.plugin import IPyNbFile

    class MystNotebookFile(IPyNbFile):
        """A MyST notebook run cell by cell by nbval, in lax mode, in the test's own Python environment."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.compare_outputs = False  # lax: run every cell, compare no outputs

        def collect(self):
            notebook = jupytext.read(self.path)
            # one group per notebook (its cells share a kernel); plain characters only: xdist splits node ids
            group = pytest.mark.xdist_group(name="notebook_" + re.sub(r"\W", "_", str(self.path.relative_to(ROOT))))
            with mock.patch("nbval.plugin.nbformat.read", return_value=notebook):
                for item in super().collect():
                    item.add_marker(group)
                    item.add_marker(pytest.mark.notebook)
                    yield item

        def setup(self):
            # The kernel of the running interpreter (.venv), started in the notebook's folder like the book build.
            with mock.patch.dict(os.environ, book_page_environment()):  # the kernel's environment, not this process's
                self.kernel = RunningKernel(CURRENT_ENV_KERNEL_NAME, cwd=str(self.path.parent),
                                            startup_timeout=self.config.option.nbval_kernel_startup_timeout)
            self.setup_sanitize_files()

    return MystNotebookFile


class MystNotebookPlugin:
    """Collects book/**/*.md notebooks; keeps pytest away from everything else under book/."""

    def __init__(self):
        self._collector = None

    def pytest_ignore_collect(self, collection_path, config):
        path = Path(collection_path)
        if BOOK not in path.parents:
            return None
        if path.is_dir():
            return path.name.startswith((".", "_")) or None  # _ext, _build, .ipynb_checkpoints
        return not is_myst_notebook(path)  # only notebooks are tests in book/

    def pytest_collect_file(self, file_path, parent):
        path = Path(file_path)
        if BOOK in path.parents and is_myst_notebook(path):
            if self._collector is None:
                self._collector = _make_notebook_collector()
            return self._collector.from_parent(parent, path=path)
        return None


def pytest_configure(config):
    config.addinivalue_line("markers", "notebook: a cell of a book page executed under nbval")
    if not hasattr(config, "workerinput"):  # once per run, before any worker starts: results of earlier runs go
        shutil.rmtree(RESULTS, ignore_errors=True)
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(MystNotebookPlugin(), PLUGIN_NAME)
    option = config.option
    if getattr(option, "nbval_cell_timeout", None) in (2000, "2000"):  # nbval's default: use the book's limit
        option.nbval_cell_timeout = NOTEBOOK_CELL_TIMEOUT


# ---------------------------------------------------------------------------------------------- the built book
@dataclass
class BuiltBook:
    """The result of one `jupyter-book build` run."""

    html: Path
    returncode: int
    log: str
    seconds: float

    def warnings(self) -> list[str]:
        """Sphinx's warnings and errors in the build log.

        Sphinx writes `path:line: WARNING: message` (or `WARNING: message`), often in colour. Kernels write their
        own chatter to the same stderr (`[IPKernelApp] WARNING | ...`, or a tornado traceback when a kernel is torn
        down): that is not the book's doing, and counting it made the build test fail at random.
        """
        return [line for line in self.log.splitlines() if SPHINX_PROBLEM.search(ANSI_COLOUR.sub("", line))]


def build_book_from_clean_state() -> BuiltBook:
    """`jupyter-book build . -W -n --keep-going` after removing every earlier output and the execution cache.

    A clean cache means every page really executes: a cached success cannot hide a page that fails today.
    """
    for stale in (BUILD / ".doctrees", BUILD / "jupyter_execute", ROOT / ".jupyter_cache"):
        shutil.rmtree(stale, ignore_errors=True)
    remove_english_site()
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", ".", "--builder", "html", "-W", "-n", "--keep-going"]
    env = {**os.environ, **book_page_environment()}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=3600)
    seconds = time.perf_counter() - start
    log = done.stdout + "\n" + done.stderr
    (BUILD / "build.log").parent.mkdir(exist_ok=True)
    (BUILD / "build.log").write_text(log, encoding="utf-8")
    (BUILD / "build.rc").write_text(str(done.returncode), encoding="utf-8")
    (BUILD / "build.seconds").write_text(f"{seconds:.1f}", encoding="utf-8")
    return BuiltBook(HTML, done.returncode, log, seconds)


def remove_english_site() -> None:
    """Everything in _build/html but the translations' folders: those are built on other workers at the same time
    (each in its own xdist group), and copied into the site by their own build."""
    from simulations.i18n import TRANSLATIONS

    if not HTML.exists():
        return
    for entry in HTML.iterdir():
        if entry.name in TRANSLATIONS:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink()


def reuse_last_build() -> BuiltBook | None:
    """The previous build, when LOYALTY_LAB_REUSE_BUILD=1 asks for it (for quick reruns of the browser tests)."""
    log, rc = BUILD / "build.log", BUILD / "build.rc"
    if os.environ.get("LOYALTY_LAB_REUSE_BUILD") != "1" or not (HTML / "index.html").exists() or not rc.exists():
        return None
    return BuiltBook(HTML, int(rc.read_text()), log.read_text(encoding="utf-8") if log.exists() else "", 0.0)


@pytest.fixture(scope="session")
def built_book() -> BuiltBook:
    """The book, built once per test session (per xdist worker; the book tests share one worker).

    Set LOYALTY_LAB_REUSE_BUILD=1 to reuse the last build made by this fixture instead (never on CI).
    """
    return reuse_last_build() or build_book_from_clean_state()


def build_translation_from_clean_state(language: str) -> BuiltBook:
    """One translated book, executed from a clean cache, then copied into the site (_build/html/<language>/),
    as `make book` does it (tools/book_site.py); its log, code and seconds beside it in _build/lang/<language>."""
    folder = BUILD / "lang" / language
    shutil.rmtree(folder, ignore_errors=True)
    command = [sys.executable, str(ROOT / "tools" / "book_site.py"), "build", "--languages", language]
    env = {**os.environ, **book_page_environment()}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=3600)
    seconds = time.perf_counter() - start
    log = done.stdout + "\n" + done.stderr
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "build.log").write_text(log, encoding="utf-8")
    return BuiltBook(HTML / language, done.returncode, log, seconds)


def reuse_last_translation(language: str) -> BuiltBook | None:
    folder = BUILD / "lang" / language
    if os.environ.get("LOYALTY_LAB_REUSE_BUILD") != "1" or not (HTML / language / "index.html").exists():
        return None
    log = folder / "build.log"
    return BuiltBook(HTML / language, 0, log.read_text(encoding="utf-8") if log.exists() else "", 0.0)


def translation_group(language: str) -> str:
    """The xdist group of one translation's build and of the tests that read it: each language builds on whichever
    worker is free, beside the English book (group "book"), instead of after it on the same worker."""
    return f"{BOOK_GROUP}_{language}"


def each_translation():
    """`@pytest.mark.parametrize("language", each_translation())`: one test per translation, in its build's group."""
    from simulations.i18n import TRANSLATIONS

    return [pytest.param(language, id=language, marks=pytest.mark.xdist_group(translation_group(language)))
            for language in TRANSLATIONS]


@pytest.fixture(scope="session")
def translated_book():
    """`translated_book("it")`: that language's book, built once per worker on first use and copied into the site
    (_build/html/it/). Use it from tests parametrized with each_translation(), so a language builds on one worker."""
    built: dict[str, BuiltBook] = {}

    def build(language: str) -> BuiltBook:
        if language not in built:
            built[language] = reuse_last_translation(language) or build_translation_from_clean_state(language)
        return built[language]

    return build


def toc_pages() -> list[str]:
    """Every page in _toc.yml, as paths without suffix relative to the root (e.g. 'book/ch01_why_loyalty_pays')."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return pages


CHAPTERS = [f"book/{name}" for name in (
    "ch01_why_loyalty_pays", "ch02_loyalty_ladder", "ch03_targeting_and_tiering", "ch04_satisfaction_and_loyalty",
    "ch05_bonding", "ch06_why_customers_leave", "ch07_competing_for_customers", "ch08_capstone")]


# ------------------------------------------------------------------------------------------ Debian's Chromium, for every browser test
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def require_chromium() -> str:
    """The path of Debian's chromium; skips the test where it is missing, and fails it on CI (where it must run)."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    reason = "Debian's chromium is not installed (apt-get install chromium, or `make browser`)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"on CI the browser tests must run: {reason}")
    pytest.skip(reason)
