"""The Loyalty Lab book's own Sphinx extension (registered in _config.yml under `sphinx: local_extensions`).

What it does, and why:

- Build checks stay out of the reader's way. A code cell tagged `build-check` holds assertions that keep the
  prose honest: it runs in the build and in the notebook tests, is hidden from the page, and is dropped from the
  `.ipynb` a reader downloads, so a learner who changes a strategy never meets the build's bare AssertionError;
  hidden cells that compute glued numbers keep their code in the download, with their asserts turned into `pass`.
  (Convention documented in book/AUTHORING.md.)
- Every notebook page offers its executed notebook for download (`_sources/<page>.ipynb`, the theme's download
  menu), without the build checks, whether or not launch buttons are configured.
- Figures are drawn in the course's figure style: `simulations.plots.BOOK_STYLE` (150 dpi, readable font sizes)
  is written to a matplotlibrc that the kernels executing the pages read (MATPLOTLIBRC), so a page gets it even
  when it never imports `simulations.plots` (which applies the same style when imported).
- Figures are described and sized: each figure's image gets the caption as its alt text (docutils would use the
  PNG's path), and a width of 96 CSS pixels per figure inch, so matplotlib's points come out at their nominal size
  (10 pt = 13 px) and wider figures shrink to the column (book/_static/loyalty_lab.css).
- Figures fit a phone: the kernels that execute the pages start with `simulations.plots.show_phone_layouts()` (an
  IPython start-up file in the build's own IPython directory), so the PNG of every wide figure carries a phone
  layout, its panels in one column; the page gets both images, and CSS shows the phone layout below 576 px. No
  figure is wider than a 390 px screen, and none has its labels shrunk away. Downloads keep plain PNGs.
- The course package ships with the book: `course/loyalty_lab-<version>-py3-none-any.whl`, built from the
  repository at build time, so a reader with only the book (and a downloaded notebook) can `pip install` it, in
  Colab too (the front page links it).
- sphinx-thebe registers its inline configuration script once per reading pass, so a page could declare
  `const THEBE_JS_URL` twice ("Identifier 'THEBE_JS_URL' has already been declared"): each page keeps one copy of
  every script.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docutils import nodes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain_notebook import PageFacts, UnknownMarkup, plain_notebook  # noqa: E402 (the book's _ext folder)

BUILD_CHECK_TAG = "build-check"
HIDDEN_TAG = "remove-cell"  # hidden code that computes what a page glues (its asserts are disarmed in downloads)
# Every tag that keeps a cell's code off the page: a claim asserted there is the build's, never the reader's.
HIDDEN_CODE_TAGS = (HIDDEN_TAG, "remove-input", "hide-input", "hide-cell")
CSS_PX_PER_FIGURE_INCH = 96  # CSS's own inch: a 10 pt label is 13.3 px, as in a printed figure
STATIC = Path(__file__).resolve().parent.parent / "_static"


# ------------------------------------------------------------------------------------------ build checks
def is_build_check(cell: dict) -> bool:
    """True for a notebook cell tagged `build-check`."""
    return BUILD_CHECK_TAG in (cell.get("metadata", {}).get("tags") or [])


def without_claims(code: str) -> str:
    """A hidden cell's code with each assert statement turned into `pass`.

    Hidden cells (`remove-cell`) compute the numbers a page glues into its prose and often check a claim on the
    way; in a download the numbers are still computed, but a learner who changes something upstream never meets
    the build's bare AssertionError. Code that cannot be parsed is left as it is.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines(keepends=True)
    claims = sorted((node for node in ast.walk(tree) if isinstance(node, ast.Assert)), key=lambda n: n.lineno, reverse=True)
    for node in claims:
        indent = lines[node.lineno - 1][:node.col_offset]
        lines[node.lineno - 1:node.end_lineno] = [f"{indent}pass  # a claim the book's build checks (left out of downloads)\n"]
    return "".join(lines)


def without_build_checks(notebook: dict) -> dict:
    """The notebook with its `build-check` cells left out and the claims of its hidden cells disarmed (a new dict).

    Hidden means any tag that keeps the code off the page (HIDDEN_CODE_TAGS): a reader never saw those asserts.
    """
    cells = []
    for cell in notebook["cells"]:
        if is_build_check(cell):
            continue
        tags = cell.get("metadata", {}).get("tags") or []
        if cell.get("cell_type") == "code" and any(tag in tags for tag in HIDDEN_CODE_TAGS):
            code = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell = {**cell, "source": without_claims(code)}
        cells.append(cell)
    return {**notebook, "cells": cells}


def hide_build_checks(app, doctree):
    """Remove the rendered `build-check` cells from the page (myst-nb marks each cell with a `tag_<tag>` class)."""
    for cell in list(doctree.findall(nodes.container)):
        if f"tag_{BUILD_CHECK_TAG}" in cell.get("classes", []):
            cell.parent.remove(cell)


def _write_bytes_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(temporary, 0o644)  # mkstemp makes it private; a web server must be able to read it
    os.replace(temporary, path)


def with_cached_outputs(app, notebook: dict) -> dict:
    """The notebook with the outputs of its cached execution, when myst-nb wrote it without them.

    With `execute_notebooks: cache`, myst-nb writes a page that it took from the cache without its outputs: the
    download would lose its figures on every build but the first. jupyter-cache gives them back.
    """
    if any(cell.get("outputs") for cell in notebook["cells"]) or not app.config["nb_execution_cache_path"]:
        return notebook
    import nbformat
    from jupyter_cache import get_cache

    cache_path = Path(app.srcdir) / app.config["nb_execution_cache_path"]  # relative to the book's root
    try:
        _, merged = get_cache(str(cache_path)).merge_match_into_notebook(
            nbformat.from_dict(notebook))
    except KeyError:  # no cached execution matches this notebook's code
        return notebook
    return json.loads(nbformat.writes(merged))


def without_phone_layouts(notebook: dict) -> dict:
    """The notebook with its figures' PNGs plain: the phone layouts they carry are for the book's pages only."""
    import base64

    from simulations.plots import split_phone_layout

    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if isinstance(png, str):
                own, phone = split_phone_layout(base64.b64decode(png))
                if phone is not None:
                    output["data"]["image/png"] = base64.b64encode(own).decode("ascii")
    return notebook


def offer_notebook_download(app, pagename, templatename, context, doctree):
    """Write `_sources/<page>.ipynb` (the executed notebook, minus build checks) and link it from the download menu.

    Connected twice: before the theme builds its buttons (so the menu links the file), and after its launch-button
    code, which copies the unfiltered notebook to the same place when launch buttons are configured.
    """
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if app.builder.format != "html" or not executed.exists():
        return
    notebook = without_phone_layouts(with_cached_outputs(app, json.loads(executed.read_text(encoding="utf-8"))))
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    facts = page_facts(app, pagename)
    language = app.config.language or "en"
    if language != "en":  # a translated build: the page's prose from its catalog, the notebook run in its language
        from loyalty_lab_i18n import localised_number, page_translations
        from translated_source import translate_notebook

        notebook = translate_notebook(notebook, page_translations(language, pagename).get, language)
        facts.localise = lambda number: localised_number(number, language)
        facts.word = download_words(app, language)
    facts.glue = glue_file_values(executed.with_name(f"{executed.stem}.glue.json"))
    try:
        offered = plain_notebook(without_build_checks(notebook), facts)
    except UnknownMarkup as err:  # a warning (an error under -W) that names the page; the rest of the build goes on
        from sphinx.util import logging

        logging.getLogger(__name__).warning(f"no download written: {err}")
        return
    _write_atomically(target, json.dumps(offered, indent=1, ensure_ascii=False) + "\n")
    context["ipynb_source"] = f"{pagename}.ipynb"


def download_words(app, language: str):
    """english -> the page's language, for the words a download writes itself: admonition titles and figure labels
    as Sphinx translates them, "Exercise" and "Solution to" as sphinx-exercise does, the rest from the site catalog."""
    from sphinx.locale import admonitionlabels, get_translation

    from plain_notebook import ADMONITIONS
    from simulations.i18n import gettext

    exercise = get_translation("exercise")
    words = {title: str(admonitionlabels[name]) for name, title in ADMONITIONS.items() if name in admonitionlabels}
    words.update({"Exercise": str(exercise("Exercise")), "Solution to": str(exercise("Solution to"))})
    for kind, english in (("figure", "Fig."), ("section", "Section"), ("table", "Table"), ("code-block", "Listing")):
        label = str(app.config.numfig_format.get(kind, "")).replace("%s", "").strip()
        if label:
            words[english] = label
    for english in ("chapter {number}", "section {number}", "Details", "Grade this strategy in your browser"):
        words[english] = gettext(english, "site", language=language)
    return lambda english: words.get(english, english)


# ------------------------------------------------------------------------------------------ what a page shows
def glue_file_values(path: Path) -> dict:
    """name -> text/plain of what a page glued, from the `<page>.glue.json` myst-nb writes beside the executed notebook."""
    if not path.exists():
        return {}
    records = json.loads(path.read_text(encoding="utf-8"))
    values = {}
    for name, record in records.items():
        text = (record.get("data") or {}).get("text/plain")
        if text is not None:
            values[name] = "".join(text) if isinstance(text, list) else text
    return values


def page_facts(app, pagename: str) -> PageFacts:
    """What the Sphinx environment knows about a page: numbers of figures and exercises, titles, citations."""
    env = app.env
    labels = env.domaindata["std"]["labels"]
    anonymous = env.domaindata["std"]["anonlabels"]
    exercises = getattr(env, "sphinx_exercise_registry", {})

    def number_of(label):
        if label in exercises:
            entry = exercises[label]
            docname, node_id = entry["docname"], (entry["node"].get("ids") or [label])[0]
            kind, name = "exercise", "Exercise"
        elif label in labels or label in anonymous:
            docname, node_id = (labels.get(label) or anonymous[label])[:2]
            kind, name = "figure", "Fig."
        else:
            return None
        for candidate in (kind, "table", "code-block"):
            number = env.toc_fignumbers.get(docname, {}).get(candidate, {}).get(node_id)
            if number:
                return ("Fig." if candidate == "figure" else name if candidate == kind else candidate.capitalize(),
                        ".".join(map(str, number)))
        section = env.toc_secnumbers.get(docname, {}).get("#" + node_id) if kind == "figure" else None
        return ("Section", ".".join(map(str, section))) if section else None

    def page_title(target):
        docname = _docname(pagename, target)
        if docname not in env.titles:
            return None
        number = env.toc_secnumbers.get(docname, {}).get("")
        return env.titles[docname].astext(), ".".join(map(str, number)) if number else ""

    def section_title(label):
        if label in exercises:
            found = number_of(label)
            return f"{found[0]} {found[1]}" if found else None
        entry = labels.get(label)
        return entry[2] if entry else None

    def image(uri):
        for candidate in (Path(app.srcdir) / Path(pagename).parent / uri, Path(app.srcdir) / uri):
            if candidate.is_file():
                return candidate
        return None

    def practice_link(challenge_id):
        from loyalty_lab_practice import practice_address, starting_strategy

        base_url = getattr(app.config, "loyalty_lab_practice_url", "")
        return practice_address(base_url, challenge_id, starting_strategy(challenge_id)) if base_url else None

    return PageFacts(page=pagename, number_of=number_of, page_title=page_title, section_title=section_title,
                     cite=_citations(app), image=image, practice_link=practice_link)


def _docname(pagename: str, target: str) -> str:
    """A {doc} target as a docname: relative to the page's folder unless it starts with '/'."""
    import posixpath

    target = target[:-3] if target.endswith(".md") else target
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(pagename), target))


_BIBLIOGRAPHY: dict = {}


def _citations(app):
    """A function (keys, 't' or 'p') -> the author-year text the page shows, from the book's BibTeX files."""
    from pybtex.database import parse_file

    if not _BIBLIOGRAPHY:
        for name in app.config["bibtex_bibfiles"]:
            _BIBLIOGRAPHY.update(parse_file(str(Path(app.srcdir) / name)).entries)
    return lambda keys, kind: author_year(keys, kind, _BIBLIOGRAPHY)


def _surname(person) -> str:
    return " ".join(str(part).strip("{}") for part in person.prelast_names + person.last_names)


def author_year(keys, kind, entries) -> str:
    """'Zeithaml et al. (2001)' (kind 't') or '(Zeithaml et al. 2001; Gupta et al. 2004)' (kind 'p')."""
    cited = []
    for key in keys:
        entry = entries.get(key)
        if entry is None:
            raise UnknownMarkup(f"a citation of {key!r}, which is not in the book's bibliography")
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_surname(person) for person in people]
        who = (names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2
               else f"{names[0]} et al." if names else entry.fields.get("title", key))
        year = entry.fields.get("year", "n.d.")
        cited.append((who, year))
    if kind == "t":
        return "; ".join(f"{who} ({year})" for who, year in cited)
    return "(" + "; ".join(f"{who} {year}" for who, year in cited) + ")"


# ------------------------------------------------------------------------------------------ figures
def _image_file(app, docname: str, uri: str) -> Path | None:
    """The file of an image node's URI: relative to the page, or to the book's root when it starts with "/"."""
    for candidate in (Path(app.srcdir) / uri.lstrip("/"), Path(app.srcdir) / Path(docname).parent / uri, Path(uri)):
        if candidate.is_file():
            return candidate
    return None


def _figure_inches(path: Path) -> float | None:
    """The figure's width in inches, from the PNG's pixels and its recorded resolution (matplotlib writes it)."""
    from PIL import Image

    with Image.open(path) as image:
        dpi = image.info.get("dpi")
        width = image.size[0]
    return width / float(dpi[0]) if dpi and dpi[0] else None


PHONE_FIGURE_CLASS, WIDE_FIGURE_CLASS = "loyalty-phone-figure", "loyalty-wide-figure"  # as in loyalty_lab.css
STACKED_CLASS = "loyalty-stacked-panels"  # a phone image whose panels stood side by side (loyalty_lab_i18n's note)


def add_phone_layouts(app, doctree):
    """Give each figure whose PNG carries a phone layout (simulations.plots) a second image, shown on a phone.

    The layout is taken out of the PNG (the page keeps a plain PNG) and written beside it; CSS shows one image or
    the other by the screen's width, and both load lazily, so a reader downloads only the one shown. Runs before
    Sphinx collects the page's images, so that the phone image is copied to the HTML like any other.
    """
    from simulations.plots import split_phone_layout

    for image in list(doctree.findall(nodes.image)):  # (myst-nb wraps a cell's image in its figure later)
        path = _image_file(app, app.env.docname, image.get("uri", ""))
        if path is None or path.suffix.lower() != ".png" or {PHONE_FIGURE_CLASS, WIDE_FIGURE_CLASS} & set(image["classes"]):
            continue
        phone_path = path.with_name(f"{path.stem}.phone.png")
        own, phone = split_phone_layout(path.read_bytes())
        if phone is not None:
            _write_bytes_atomically(phone_path, phone)
            _write_bytes_atomically(path, own)
        if not phone_path.exists():  # (a rebuild finds the PNG already split)
            continue
        phone_uri = image["uri"][: -len(path.name)] + phone_path.name
        image["classes"].append(WIDE_FIGURE_CLASS)
        image["loading"] = "lazy"
        classes = [PHONE_FIGURE_CLASS] + ([STACKED_CLASS] if _stacked(phone_path) else [])
        image.parent.insert(image.parent.index(image) + 1, nodes.image(uri=phone_uri, classes=classes, loading="lazy"))


def _stacked(phone_path: Path) -> bool:
    """Whether the phone layout put panels that stood side by side one below the other (simulations.plots)."""
    from PIL import Image

    from simulations.plots import PHONE_STACKED_KEY

    with Image.open(phone_path) as image:
        return PHONE_STACKED_KEY in getattr(image, "text", {})


def describe_and_size_figures(app, doctree, docname):
    """Alt text from the caption; display width from the figure's size in inches."""
    for figure in doctree.findall(nodes.figure):
        captions = list(figure.findall(nodes.caption))
        for image in figure.findall(nodes.image):
            if captions and not image.get("alt"):
                image["alt"] = " ".join(captions[0].astext().split())
            path = _image_file(app, docname, image.get("uri", ""))
            inches = _figure_inches(path) if path and path.suffix.lower() == ".png" else None
            if inches and "width" not in image:
                image["width"] = f"{round(inches * CSS_PX_PER_FIGURE_INCH)}px"


# ------------------------------------------------------------------------------------------ the course package
COURSE_FOLDER = "course"  # in the HTML output: <outdir>/course/<wheel>
PACKAGE_FILES = ("pyproject.toml", "README.md", "simulations", "exercises")  # what building the wheel reads


def build_course_wheel(root: Path, target: Path) -> Path:
    """Build the course's wheel from a copy of its package files (pip would write build/ into the repository).

    Tried first with this environment's setuptools (no network); then in pip's isolated build environment,
    which fetches setuptools from the package index.
    """
    with tempfile.TemporaryDirectory(prefix="loyalty_lab_wheel_") as scratch:
        source = Path(scratch) / "source"
        source.mkdir()
        for name in PACKAGE_FILES:
            if (root / name).is_dir():
                shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(root / name, source / name)
        wheels = Path(scratch) / "wheels"
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                   "-w", str(wheels), str(source)]
        done = subprocess.run([*command, "--no-build-isolation"], capture_output=True, text=True)
        if done.returncode != 0:
            done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"building the course wheel failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
        (wheel,) = wheels.glob("*.whl")
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*.whl"):
            old.unlink()
        return Path(shutil.copy2(wheel, target / wheel.name))


def ship_course_wheel(app, exception):
    if exception is None and app.builder.format == "html":
        build_course_wheel(Path(app.srcdir), Path(app.outdir) / COURSE_FOLDER)


# ------------------------------------------------------------------------------------------ scripts
def _script_key(script):
    """What makes two scripts the same: the file (None and "" both mean inline) and the attributes, not the priority."""
    attributes = getattr(script, "attributes", {}) or {}
    return str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def dedupe_scripts(app, pagename, templatename, context, doctree):
    """Drop repeated <script> entries (same file or same inline body) from a page."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def use_course_figure_style(app, config):
    """Point the kernels that execute the pages (they inherit this process's environment) at the course's style."""
    from simulations.plots import BOOK_STYLE

    rc_file = Path(app.outdir).parent / "matplotlibrc"
    _write_atomically(rc_file, "".join(f"{key}: {value}\n" for key, value in BOOK_STYLE.items()))
    os.environ["MATPLOTLIBRC"] = str(rc_file)


def add_static_files(app, config):
    config.html_static_path.append(str(STATIC))


PHONE_STARTUP = """# Written by book/_ext/loyalty_lab_html.py for the kernels that execute the book's pages: every figure's PNG
# carries its phone layout (simulations.plots.show_phone_layouts).
from simulations.plots import show_phone_layouts

show_phone_layouts()
del show_phone_layouts
"""


def draw_phone_layouts_in_kernels(app, config):
    """Have the kernels that execute the pages (they inherit this process's environment) start with the phone
    layouts on: an IPython directory of the build's own, whose start-up file turns them on."""
    ipython_dir = Path(app.outdir).parent / "ipython"
    _write_atomically(ipython_dir / "profile_default" / "startup" / "50-loyalty-lab-phone-figures.py", PHONE_STARTUP)
    os.environ["IPYTHONDIR"] = str(ipython_dir)


def setup(app):
    app.connect("config-inited", add_static_files)
    app.connect("config-inited", use_course_figure_style)
    app.connect("config-inited", draw_phone_layouts_in_kernels)
    app.add_css_file("loyalty_lab.css")
    app.connect("doctree-read", hide_build_checks)
    app.connect("doctree-read", add_phone_layouts, priority=400)  # before Sphinx's image collector (500)
    app.connect("doctree-resolved", describe_and_size_figures)
    app.connect("html-page-context", offer_notebook_download, priority=500)
    app.connect("html-page-context", offer_notebook_download, priority=900)
    app.connect("html-page-context", dedupe_scripts, priority=100)
    app.connect("build-finished", ship_course_wheel)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
