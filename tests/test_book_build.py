"""The whole book builds from a clean state with warnings as errors, and every page is there.

The build itself is the `built_book` session fixture (tests/conftest.py), shared with the browser tests:
all of them are in the xdist group "book", so one worker builds the book once per run.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import BOOK_GROUP, CHAPTERS, ROOT, BuiltBook, book_notebooks, toc_pages

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(BOOK_GROUP)]


def test_book_builds_without_a_single_warning(built_book):
    warnings = built_book.warnings()
    report = "\n".join(warnings[:40]) or built_book.log[-3000:]
    assert built_book.returncode == 0 and not warnings, (
        f"jupyter-book build . -W -n --keep-going failed (exit {built_book.returncode}, {len(warnings)} warnings; "
        f"full log in _build/build.log):\n{report}")


def test_warning_filter_counts_sphinx_problems_and_not_kernel_chatter():
    log = "\n".join([
        "\x1b[91m/tmp/wb/index.md:3: WARNING: undefined label: 'nope'\x1b[39;49;00m",  # as jupyter-book prints them
        "WARNING: the config value `x` is not known",
        "/book/ch01.md: ERROR: Unknown directive type",
        "[IPKernelApp] WARNING | Kernel is running over TCP without encryption.",
        "ERROR:tornado.general:Uncaught exception in ZMQStream callback",
        "zmq.error.ZMQError: Socket operation on non-socket",
    ])
    found = BuiltBook(ROOT, 0, log, 0.0).warnings()
    assert len(found) == 3 and all("tornado" not in line and "IPKernelApp" not in line for line in found)


def test_no_notebook_failed_to_execute(built_book):
    reports = sorted((built_book.html / "reports").rglob("*.err.log")) if (built_book.html / "reports").exists() else []
    assert not reports, "notebooks failed during the build: " + ", ".join(str(r.relative_to(ROOT)) for r in reports)


def test_every_toc_page_has_html(built_book):
    missing = [page for page in toc_pages() if not (built_book.html / f"{page}.html").exists()]
    assert not missing, f"pages in _toc.yml without HTML: {missing}"
    assert (built_book.html / "index.html").exists()


@pytest.mark.parametrize("page", [p.relative_to(ROOT).with_suffix("").as_posix() for p in book_notebooks()])
def test_every_notebook_page_offers_its_ipynb(built_book, page):
    """The download menu of a notebook page links to an executed .ipynb that Jupyter can open."""
    html = (built_book.html / f"{page}.html").read_text(encoding="utf-8")
    name = page.rsplit("/", 1)[-1]
    link = re.search(r'href="([^"]*_sources/[^"]*' + re.escape(name) + r'\.ipynb)"', html)
    assert link, f"{page}.html has no .ipynb download link"
    notebook_file = built_book.html / "_sources" / f"{page}.ipynb"
    assert notebook_file.exists(), f"{notebook_file} is linked but missing"
    notebook = json.loads(notebook_file.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    if code:  # an executed notebook: the figures and quiz come with it
        assert any(cell.get("outputs") for cell in code), f"{notebook_file} has no outputs"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_pages_have_launch_buttons(built_book, page):
    html = (built_book.html / f"{page}.html").read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/loyalty-lab/loyalty-lab/main" in html
    assert "colab.research.google.com/github/loyalty-lab/loyalty-lab/blob/main" in html


def test_build_time_is_reported(built_book, record_property):
    record_property("book_build_seconds", round(built_book.seconds, 1))
    assert built_book.seconds > 0
