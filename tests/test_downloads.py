"""Downloaded notebooks run for a learner (issue 12, part 3), anywhere (issue 17, part 1).

The build's own checks live in code cells tagged `build-check` (book/AUTHORING.md). They run in the book build
and under nbval, are hidden from the pages, and are left out of the `.ipynb` a reader downloads
(book/_ext/loyalty_lab_html.py). The slow tests take each lab's downloadable notebook from the built HTML, change
its worked attempt to a strategy that passes (the reference strategies of tests/test_challenges.py), and run it
to the end with nbclient, in a folder of its own, as a learner would: in a bare virtual environment that has only the
course's wheel (its declared dependencies) and Jupyter's kernel and runner installed, every page, before and after the
edit. The quick tests check the conversion to plain Markdown (book/_ext/plain_notebook.py) and every import.
"""

from __future__ import annotations

import ast
import copy
import html
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BOOK, BOOK_GROUP, BUILD, ROOT, book_notebooks
from test_challenges import REFERENCE

BUILD_CHECK = "build-check"
LABS = sorted((BOOK / "labs").glob("lab*.md"))
LAB_TIMEOUT = 600  # seconds per cell: a lab runs a dashboard and two challenge gradings


def page_of(path: Path) -> str:
    return path.relative_to(ROOT).with_suffix("").as_posix()


def tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags") or []


def source(cell) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else text


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------- quick: the sources follow the convention
def _names(code: str, context) -> set[str]:
    """Names a cell binds (context ast.Store) or reads (ast.Load); IPython magics are skipped."""
    tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, context):
            found.add(node.id)
        elif context is ast.Store and isinstance(node, ast.arg):  # a function's parameter: its own, not a global
            found.add(node.arg)
        elif context is ast.Store and isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif context is ast.Store and isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return found


@pytest.mark.parametrize("path", book_notebooks(), ids=page_of)
def test_nothing_after_a_build_check_needs_it(path):
    """A download without its build checks still runs: no later cell reads a name that only a check defined."""
    import jupytext

    only_in_checks: set[str] = set()
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        bound = _names(cell.source, ast.Store)
        if BUILD_CHECK in tags(cell):
            only_in_checks |= bound
            continue
        needed = (_names(cell.source, ast.Load) & only_in_checks) - bound
        assert not needed, f"{page_of(path)}: a cell reads {sorted(needed)}, defined only in a build-check cell:\n" \
                           f"{cell.source[:300]}"
        only_in_checks -= bound


def test_every_lab_keeps_its_checks_in_build_check_cells():
    """The labs' assertions are the ones that broke learners: none may sit in a cell that ships."""
    import jupytext

    for path in LABS:
        for cell in jupytext.read(path).cells:
            if cell.cell_type == "code" and BUILD_CHECK not in tags(cell):
                assert not re.search(r"^\s*assert\b", cell.source, re.M), \
                    f"{page_of(path)}: an assert in a cell that ships in the download:\n{cell.source[:300]}"


def test_the_extension_drops_exactly_the_build_check_cells():
    import sys

    sys.path.insert(0, str(BOOK / "_ext"))
    from loyalty_lab_html import without_build_checks

    hidden = "x = 1\nassert x == 2, (\n    'a claim')\nfor i in range(2):\n    assert i < 5\ny = x"
    notebook = {"cells": [{"cell_type": "code", "metadata": {"tags": ["build-check"]}, "source": "assert False"},
                          {"cell_type": "code", "metadata": {"tags": ["remove-cell"]}, "source": hidden},
                          {"cell_type": "code", "metadata": {}, "source": "assert x == 1"},
                          {"cell_type": "markdown", "metadata": {}, "source": "text"}], "metadata": {}}
    kept = without_build_checks(notebook)
    assert [c["source"] for c in kept["cells"]][1:] == ["assert x == 1", "text"] and len(notebook["cells"]) == 4
    disarmed = kept["cells"][0]["source"]
    assert "assert" not in disarmed and disarmed.startswith("x = 1\npass") and disarmed.endswith("y = x")
    scope = {}
    exec(disarmed, scope)  # still valid Python: the glued values are computed, no claim can stop it
    assert scope["y"] == 1


# ------------------------------------------------------------------------- slow: the built book's downloads
def downloaded(built_book, page: str) -> dict:
    return read_notebook(built_book.html / "_sources" / f"{page}.ipynb")


def executed(page: str) -> dict:
    return read_notebook(BUILD / "jupyter_execute" / f"{page}.ipynb")


@pytest.mark.slow
@pytest.mark.xdist_group(BOOK_GROUP)
@pytest.mark.parametrize("path", book_notebooks(), ids=page_of)
def test_download_is_the_executed_notebook_without_its_build_checks(built_book, path):
    page = page_of(path)
    full, offered = executed(page), downloaded(built_book, page)
    checks = [cell for cell in full["cells"] if BUILD_CHECK in tags(cell)]
    assert not [cell for cell in offered["cells"] if BUILD_CHECK in tags(cell)], f"{page}: build checks shipped"
    sys.path.insert(0, str(BOOK / "_ext"))
    from loyalty_lab_html import HIDDEN_CODE_TAGS, without_claims

    plain = _plain()
    kept = [cell for cell in full["cells"] if BUILD_CHECK not in tags(cell)]
    # code as the page ran it, less the claims of hidden cells, with glue from the course package
    expected_code = [plain.GLUE_IMPORT.sub(plain.PLAIN_GLUE_IMPORT, without_claims(source(cell))
                                           if set(HIDDEN_CODE_TAGS) & set(tags(cell)) else source(cell))
                     for cell in kept if cell["cell_type"] == "code"]
    assert expected_code == [source(cell) for cell in offered["cells"] if cell["cell_type"] == "code"], \
        f"{page}: the download's code is not the page's"
    captions = [cell for cell in offered["cells"] if "figure-caption" in tags(cell)]
    assert len(captions) == sum(bool(cell["metadata"].get("mystnb", {}).get("figure", {}).get("caption")) for cell in kept)
    prose = [cell for cell in offered["cells"] if cell["cell_type"] == "markdown" and cell not in captions]
    assert len(prose) == sum(cell["cell_type"] == "markdown" for cell in kept), f"{page}: Markdown cells lost or added"
    code = [cell for cell in offered["cells"] if cell["cell_type"] == "code"]
    assert not code or any(cell.get("outputs") for cell in code), f"{page}: the download has no outputs"
    mode = (built_book.html / "_sources" / f"{page}.ipynb").stat().st_mode
    assert mode & 0o044 == 0o044, f"{page}.ipynb is not readable by a web server (mode {oct(mode)})"
    html = (built_book.html / f"{page}.html").read_text(encoding="utf-8")
    assert "tag_build-check" not in html, f"{page}: a build-check cell is shown on the page"
    if path in LABS:
        assert checks, f"{page}: the lab has no build-check cell (its checks ship to learners?)"


def with_passing_attempt(notebook: dict) -> tuple[dict, str]:
    """The notebook with its worked attempt (`attempt = grade(...)`) changed to the challenge's reference strategy."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        code = source(cell)
        if cell["cell_type"] != "code" or "attempt = grade(" not in code:
            continue
        tree = ast.parse(code)
        assign = next(node for node in tree.body if isinstance(node, ast.Assign)
                      and getattr(node.targets[0], "id", None) == "attempt")
        challenge_id = ast.literal_eval(assign.value.args[0])
        lines = code.splitlines()
        edited = f"attempt = grade({challenge_id!r}, {REFERENCE[challenge_id]!r})"
        cell["source"] = "\n".join(lines[:assign.lineno - 1] + [edited] + lines[assign.end_lineno:])
        cell["outputs"], cell["execution_count"] = [], None
        return notebook, challenge_id
    raise AssertionError("no worked attempt (`attempt = grade(...)`) in the notebook")


def run_as_a_learner(notebook: dict, folder: Path):
    import nbformat
    from nbclient import NotebookClient

    node = nbformat.reads(json.dumps(notebook), as_version=4)  # as a file would be read: sources joined
    NotebookClient(node, timeout=LAB_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return node


# ------------------------------------------------------------------------- slow: every download in a bare environment
# What a reader installs: the course's wheel that the book ships (course/*.whl, its declared dependencies only, not
# requirements.txt) and Jupyter's kernel and notebook runner, at the versions requirements.txt pins.
RUNNER_PINS = ("ipykernel", "nbclient", "jupyter_client", "nbformat")
WHEELHOUSE = BUILD / "wheelhouse"  # wheels kept between runs, so the bare environment installs in seconds
BARE_RUN = """
import json, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
notebook = nbformat.read(sys.argv[1], as_version=4)
# a last cell, taken out again, says which Python ran the notebook and which copy of the course it imported
notebook.cells.append(nbformat.v4.new_code_cell("import sys, simulations; print('PROBE', sys.executable, simulations.__file__)"))
try:
    NotebookClient(notebook, timeout=int(sys.argv[3]), kernel_name="python3",
                   resources={"metadata": {"path": sys.argv[2]}}).execute()
finally:
    probe = notebook.cells.pop()
    print("".join(output.get("text", "") for output in probe.get("outputs", [])))
    nbformat.write(notebook, sys.argv[1])
"""


def pinned(names) -> list[str]:
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M))
    return [f"{name}=={pins[name]}" if name in pins else name for name in names]


def clean_env() -> dict:
    """This process's environment without what would let the bare environment see the worktree or the main venv."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "MATPLOTLIBRC", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "PIP_REQUIRE_VIRTUALENV")
    return {key: value for key, value in os.environ.items() if key not in dropped}


def pip(python: Path, *args, timeout=1800):
    done = subprocess.run([str(python), "-m", "pip", *args, "--disable-pip-version-check", "--quiet"],
                          capture_output=True, text=True, env=clean_env(), timeout=timeout)
    assert done.returncode == 0, f"pip {' '.join(args)}:\n{done.stdout[-2000:]}{done.stderr[-4000:]}"


@dataclass
class BareEnvironment:
    python: Path
    seconds_to_install: float


@pytest.fixture(scope="session")
def bare_environment(built_book, tmp_path_factory) -> BareEnvironment:
    """A fresh venv with the book's course wheel, ipykernel and nbclient: nothing from requirements.txt but those pins."""
    start = time.perf_counter()
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=clean_env(), timeout=300)
    python = venv / "bin" / "python"
    (wheel,) = (built_book.html / "course").glob("*.whl")
    wanted = [str(wheel), *pinned(RUNNER_PINS)]
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    for stale in WHEELHOUSE.glob("loyalty_lab-*.whl"):  # an older course wheel of the same version would be preferred
        stale.unlink()                                  # to this build's, with that version's dependencies
    try:  # from the kept wheels alone when they suffice (no index at all) ...
        pip(python, "install", "--no-index", "--find-links", str(WHEELHOUSE), *wanted, timeout=900)
    except AssertionError:  # ... else from the package index, keeping the wheels for the next run
        pip(python, "wheel", "--wheel-dir", str(WHEELHOUSE), "--find-links", str(WHEELHOUSE), *wanted)
        for course in WHEELHOUSE.glob("loyalty_lab-*.whl"):
            course.unlink()
        pip(python, "install", "--no-index", "--find-links", str(WHEELHOUSE), *wanted, timeout=900)
    return BareEnvironment(python, time.perf_counter() - start)


def run_in_bare_environment(environment: BareEnvironment, notebook: dict, folder: Path) -> dict:
    """Run a notebook top to bottom with the bare environment's own kernel, in `folder`; returns it executed."""
    path = folder / "download.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    done = subprocess.run([str(environment.python), "-c", BARE_RUN, str(path), str(folder), str(LAB_TIMEOUT)],
                          capture_output=True, text=True, env=clean_env(), cwd=folder, timeout=3600)
    assert done.returncode == 0, done.stderr[-6000:]
    probe = next(line.split()[1:] for line in done.stdout.splitlines() if line.startswith("PROBE"))
    venv = environment.python.parent.parent
    assert all(Path(found).is_relative_to(venv) for found in probe), f"not the bare environment's: {probe}"
    return read_notebook(path)


def outputs_text(cell: dict) -> str:
    return json.dumps(cell.get("outputs", []))


BARE_RUNS = [(path, False) for path in book_notebooks()] + [(path, True) for path in LABS]


@pytest.mark.slow
@pytest.mark.xdist_group(BOOK_GROUP)
@pytest.mark.parametrize("path, edited", BARE_RUNS,
                         ids=[page_of(path) + (" after the learner's edit" if edited else "") for path, edited in BARE_RUNS])
def test_download_runs_in_a_bare_environment_with_only_the_course_installed(built_book, bare_environment, path, edited,
                                                                             tmp_path):
    """A downloaded page runs top to bottom with `pip install` of the course and Jupyter only; a lab also after the
    learner's edit (its worked attempt changed to a strategy that passes)."""
    page = page_of(path)
    offered = downloaded(built_book, page)
    notebook, challenge_id = with_passing_attempt(offered) if edited else (offered, None)
    start = time.perf_counter()
    done = run_in_bare_environment(bare_environment, notebook, tmp_path)
    print(f"{page}: ran in {time.perf_counter() - start:.0f} s in the bare environment "
          f"(installed in {bare_environment.seconds_to_install:.0f} s)")
    errors = [o for cell in done["cells"] for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{page}: {errors[0]['ename']}: {errors[0]['evalue']}" if errors else ""
    if challenge_id:
        attempt_cell = next(cell for cell in done["cells"] if "attempt = grade(" in source(cell))
        assert "Passed" in outputs_text(attempt_cell), f"{challenge_id}: the reference strategy did not pass"
        assert done["cells"][-1].get("outputs"), "the last cell (the challenge form) showed nothing"


@pytest.mark.slow
@pytest.mark.xdist_group(BOOK_GROUP)
@pytest.mark.parametrize("path", book_notebooks(), ids=page_of)
def test_download_is_plain_markdown_with_its_numbers_written_in(built_book, path):
    """No role, directive fence or label target left; every number the page glued written into the text."""
    plain = _plain()
    page = page_of(path)
    offered = downloaded(built_book, page)
    assert not plain.leftover_markup(offered), f"{page}: MyST markup in the download: {plain.leftover_markup(offered)[:5]}"
    for cell in offered["cells"]:
        if cell["cell_type"] != "code":
            continue
        assert "myst_nb" not in source(cell), f"{page}: the download still imports myst_nb"
        assert not re.search(r"^\s*assert\b", source(cell), re.M), f"{page}: an assert ships:\n{source(cell)[:300]}"
    page_text = (built_book.html / f"{page}.html").read_text(encoding="utf-8")
    shown = re.findall(r'<span class="pasted-text">([^<]*)</span>', page_text)
    prose = " ".join(source(c) for c in offered["cells"] if c["cell_type"] == "markdown")
    def plain(text):  # the page's typography (smart quotes) aside
        return html.unescape(text).translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))

    missing = [text for text in shown if plain(text) not in plain(prose)]
    assert not missing, f"{page}: glued numbers the page shows but the download does not: {missing[:5]}"


@pytest.mark.slow
@pytest.mark.xdist_group(BOOK_GROUP)
def test_with_the_build_checks_the_same_edit_would_fail(built_book, tmp_path):
    """The control: the build's own notebook, edited the same way, stops at a check (what learners used to hit)."""
    from nbclient.exceptions import CellExecutionError

    notebook, _ = with_passing_attempt(executed(page_of(LABS[0])))
    with pytest.raises(CellExecutionError, match="AssertionError"):
        run_as_a_learner(notebook, tmp_path)


# ------------------------------------------------------------------------- quick: downloads are plain notebooks
def _plain():
    sys.path.insert(0, str(BOOK / "_ext"))
    import plain_notebook

    return plain_notebook


def _facts(**changes):
    plain = _plain()
    numbers = {"fig-x": ("Fig.", "3.2"), "ch03_ex1": ("Exercise", "3.1")}
    facts = plain.PageFacts(
        page="book/ch03_example", glue={"share": "0.4123", "name": "'retail bank'", "n": "2000"},
        number_of=numbers.get, page_title={"ch05_bonding": ("Bonding", "5"), "labs/lab05": ("Lab 5", "5.9")}.get,
        section_title={"sec-a": "A section"}.get,
        cite=lambda keys, kind: ("Gupta et al. (2004)" if kind == "t" else "(Gupta et al. 2004)"))
    for name, value in changes.items():
        setattr(facts, name, value)
    return facts


def test_a_page_s_markup_becomes_plain_markdown():
    plain = _plain()
    text = """(sec-a)=
## A heading
% a comment for authors

The {term}`pyramid <customer pyramid>` of {glue:text}`name` has {glue:text}`n:,.0f` customers, {glue:text}`share:.0%`
Lead; see {numref}`fig-x`, {numref}`Figure %s <fig-x>`, {doc}`ch05_bonding`, {doc}`the lab <labs/lab05>`, {ref}`sec-a`,
{cite:t}`gupta2004valuing` and {cite:p}`gupta2004valuing`, {math}`x^2`.

```{admonition} Learning objectives
:class: tip

- one {term}`term`
```

```{exercise-start}
:label: ch03_ex1
```

Do it.

```{exercise-end}
```

```{solution-start} ch03_ex1
:class: dropdown
```

````{note}
Inner `code` and
```python
x = {1: 2}
```
````
"""
    out = plain.plain_markdown_text(text, _facts())
    assert "retail bank has 2,000 customers, 41%" in out and "The pyramid of" in out
    assert "see Fig. 3.2, Figure 3.2, *Bonding* (chapter 5), the lab, A section," in out
    assert "Gupta et al. (2004) and (Gupta et al. 2004), $x^2$" in out
    assert "> **Learning objectives**\n>\n> - one term" in out
    assert "**Exercise 3.1**\n\nDo it." in out and "**Solution to Exercise 3.1**" in out
    assert "> **Note**\n>\n> Inner `code` and\n> ```python\n> x = {1: 2}\n> ```" in out
    assert "(sec-a)=" not in out and "% a comment" not in out and "## A heading" in out
    assert not plain.leftover_markup({"cells": [{"cell_type": "markdown", "source": out}]})


@pytest.mark.parametrize("markup", ["{glue:text}`missing:.0f`", "{numref}`fig-unknown`", "{unknownrole}`x`",
                                    "```{unknowndirective}\nbody\n```"])
def test_markup_the_download_cannot_render_stops_the_build(markup):
    plain = _plain()
    with pytest.raises(plain.UnknownMarkup, match="book/ch03_example"):
        plain.plain_markdown_text(markup, _facts())


def test_a_download_imports_glue_from_the_course_and_captions_its_figures():
    plain = _plain()
    notebook = {"metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {"mystnb": {"figure": {"name": "fig-x", "caption": "Profit by {term}`tier`."}}},
         "source": "import numpy as np\nfrom myst_nb import glue\nglue('n', 2000, display=False)", "outputs": [
             {"output_type": "display_data", "metadata": {"scrapbook": {"name": "n", "mime_prefix": "application/papermill.record/"}},
              "data": {"application/papermill.record/text/plain": "2000"}},
             {"output_type": "display_data", "metadata": {}, "data": {"image/png": "AAAA"}}]},
        {"cell_type": "markdown", "metadata": {}, "source": "We have {glue:text}`n:,.0f` customers."}]}
    offered = plain.plain_notebook(notebook, _facts(glue={}))
    code, caption, prose = offered["cells"]
    assert "from simulations.notebook import glue" in code["source"] and "myst_nb" not in code["source"]
    assert [o["data"] for o in code["outputs"]] == [{"image/png": "AAAA"}]  # glue's invisible record is dropped
    assert caption["source"] == "*Fig. 3.2: Profit by tier.*" and prose["source"] == "We have 2,000 customers."
    scope = {}
    exec(code["source"], scope)  # runs with the course package only: the glue of simulations.notebook


def _declared_modules() -> set[str]:
    """Top-level modules that the course package's declared dependencies (and Jupyter's kernel) provide."""
    import importlib.metadata
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {Requirement(spec).name.lower().replace("_", "-") for spec in project["dependencies"]}
    wanted |= {"ipykernel", "ipython"}  # what running any notebook needs: Jupyter's kernel
    provided = {"simulations", "exercises"}
    for module, distributions in importlib.metadata.packages_distributions().items():
        if any(d.lower().replace("_", "-") in wanted for d in distributions):
            provided.add(module)
    return provided


@pytest.mark.parametrize("path", book_notebooks(), ids=page_of)
def test_every_import_of_a_download_is_the_course_package_or_its_dependencies(path):
    """pip install of the course (and Jupyter) is all a download needs: nothing from the book's build tools."""
    import jupytext

    plain = _plain()
    allowed = _declared_modules() | set(sys.stdlib_module_names)
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code" or BUILD_CHECK in tags(cell):
            continue
        code = plain.GLUE_IMPORT.sub(plain.PLAIN_GLUE_IMPORT, cell.source)
        tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for name in names:
                assert name.split(".")[0] in allowed, \
                    f"{page_of(path)}: imports {name!r}, which `pip install` of the course does not provide"


def test_the_cdnow_records_ship_with_the_course_as_published():
    """ch03 reads CDNOW from the course package (it needed `lifetimes`, which the course does not declare)."""
    from simulations.datasets import CDNOW_SHA256, cdnow_checksum, cdnow_purchases

    assert cdnow_checksum() == CDNOW_SHA256  # Fader & Hardie's CDNOW_master.txt, byte for byte
    purchases = cdnow_purchases()
    assert list(purchases.columns) == ["customer_id", "date", "number_of_cds", "dollar_value"]
    assert len(purchases) == 69_659 and purchases["customer_id"].nunique() == 23_570
    assert purchases["date"].min() == pd_timestamp("1997-01-01") and purchases["date"].max() == pd_timestamp("1998-06-30")


def pd_timestamp(text):
    import pandas as pd

    return pd.Timestamp(text)


@pytest.mark.slow
@pytest.mark.xdist_group(BOOK_GROUP)
def test_a_translated_download_runs_in_a_bare_environment_in_its_language(built_book, bare_environment, tmp_path):
    """The Italian lab 1 runs with only the course installed, and the first cell that the Italian build adds to its
    download (set_language) makes the grader answer in Italian. Made here from the English download, so that this
    test needs no translated build on the book's worker; tests/test_translated_downloads.py checks every language's
    downloads as the site offers them."""
    from babel.messages.pofile import read_po

    from exercises import load_challenge
    from simulations.i18n import gettext

    sys.path.insert(0, str(BOOK / "_ext"))
    from translated_source import translate_notebook

    with (BOOK / "locales" / "it" / "LC_MESSAGES" / "book" / "labs" / "lab01.po").open("rb") as handle:
        catalog = {message.id: message.string for message in read_po(handle) if message.id and message.string}
    english = read_notebook(built_book.html / "_sources" / "book" / "labs" / "lab01.ipynb")
    offered = translate_notebook(english, catalog.get, "it")
    for cell in offered["cells"]:  # what the build computed is not what this run shows
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    done = run_in_bare_environment(bare_environment, offered, tmp_path)
    errors = [o for cell in done["cells"] for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else ""
    attempt_cell = next(cell for cell in done["cells"] if "attempt = grade(" in source(cell))
    title = load_challenge("ch01_first_look")["title"]
    italian = gettext(title, "exercises", context="ch01_first_look", language="it")
    assert italian != title and italian in json.dumps(attempt_cell.get("outputs", []), ensure_ascii=False)
