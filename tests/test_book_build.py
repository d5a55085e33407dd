"""The whole book builds from a clean state with warnings as errors, and every page is there.

The build itself is the `built_book` session fixture (tests/conftest.py), shared with the browser tests:
all of them are in the xdist group "book", so one worker builds the book once per run.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import BOOK_GROUP, CHAPTERS, ROOT, BuiltBook, book_notebooks, toc_pages

MIN_DPI = 150

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


LAUNCH_AND_REPOSITORY_LINKS = ("mybinder.org", "colab.research.google.com", "github.com", "gitlab.com")


def repository_url() -> str:
    """The repository's address, from its one home (_config.yml)."""
    return (yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")).get("repository") or {}).get("url") or ""


@pytest.mark.parametrize("page", CHAPTERS)
def test_launch_and_repository_buttons_match_the_configured_repository(built_book, page):
    """No repository URL: no button that would lead to a missing repository. With one: Binder opens it."""
    html = (built_book.html / f"{page}.html").read_text(encoding="utf-8")
    url = repository_url()
    if not url:
        links = [href for href in re.findall(r'href="([^"]+)"', html) if any(h in href for h in LAUNCH_AND_REPOSITORY_LINKS)]
        assert not links, f"{page}: links to a repository or launch service although _config.yml has no repository: {links}"
    else:
        owner_repo = url.rstrip("/").split("/", 3)[-1]
        assert f"mybinder.org/v2/gh/{owner_repo}" in html and url in html


def test_front_page_says_what_a_reader_can_do(built_book):
    text = re.sub(r"<[^>]+>", " ", (built_book.html / "book" / "index.html").read_text(encoding="utf-8"))
    text = " ".join(text.split())
    assert ".ipynb" in text and "pip install ." in text
    if not repository_url():
        assert "no launch button" in text and "not public" in text, "the front page must say why there is no launch button"


def test_front_page_links_the_course_package_that_the_book_ships(built_book):
    """The wheel a reader can pip install without the repository: linked, present, complete, with its dependencies."""
    import zipfile

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name = f"loyalty_lab-{project['version']}-py3-none-any.whl"
    front = (built_book.html / "book" / "index.html").read_text(encoding="utf-8")
    assert f'href="../course/{name}"' in front, f"the front page does not link {name} (version changed?)"
    wheel = built_book.html / "course" / name
    assert wheel.exists(), f"{wheel} is linked but missing"
    with zipfile.ZipFile(wheel) as archive:
        files = set(archive.namelist())
        metadata_file = next(f for f in files if f.endswith(".dist-info/METADATA"))
        requires = [line.split(":", 1)[1].strip() for line in archive.read(metadata_file).decode().splitlines()
                    if line.startswith("Requires-Dist:")]
    assert {"simulations/model.py", "exercises/challenges.py", "exercises/quiz_schema.json"} <= files
    assert any(f.startswith("simulations/scenarios/") and f.endswith(".yaml") for f in files)
    assert any(f.startswith("exercises/challenges/") and f.endswith(".yaml") for f in files)
    declared = {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() for r in project["dependencies"]}
    shipped = {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() for r in requires if "extra ==" not in r}
    assert declared == shipped, f"the wheel's dependencies {sorted(shipped)} differ from pyproject's {sorted(declared)}"


def test_binder_environment_installs_the_pinned_set_and_the_course():
    binder = ROOT / "binder"
    lines = [l.strip() for l in (binder / "requirements.txt").read_text(encoding="utf-8").splitlines()
             if l.strip() and not l.startswith("#")]
    assert lines == ["-r ../requirements.txt"] and (binder / lines[0].split()[1]).resolve() == ROOT / "requirements.txt"
    post_build = binder / "postBuild"
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"
    assert "pip install --no-deps -e ." in post_build.read_text(encoding="utf-8")
    runtime = (binder / "runtime.txt").read_text(encoding="utf-8").strip()
    version = tuple(int(x) for x in re.fullmatch(r"python-(\d+)\.(\d+)", runtime).groups())
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert version >= tuple(int(x) for x in re.search(r">=\s*(\d+)\.(\d+)", requires).groups())
    assert re.search(r"^jupytext==", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M | re.I), \
        "Binder opens the MyST pages as notebooks through jupytext"


# ------------------------------------------------------------------------------------------ figures
def figures(html_file: Path):
    """(img tag, caption text without its number, PNG path) of every figure image on a built page (a wide figure
    has two: its own layout and a phone's)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
    for figure in soup.select("article figure"):
        caption = figure.find("figcaption")
        text = " ".join(caption.get_text(" ").split()) if caption else ""
        text = re.sub(r"^Fig\.\s*[\d.]+\s*", "", text).rstrip("#").strip()
        computed = figure.find_parent("div", class_="cell_output") is not None  # drawn by a cell, not a screenshot
        for img in figure.find_all("img"):
            yield img, text, (html_file.parent / img["src"]).resolve(), computed


def built_pages(built_book) -> list[Path]:
    return [built_book.html / f"{page}.html" for page in toc_pages()]


def test_every_figure_is_sharp_and_described_by_its_caption(built_book):
    from PIL import Image

    seen, problems = 0, []
    for html_file in built_pages(built_book):
        for img, caption, png, computed in figures(html_file):
            where = f"{html_file.relative_to(built_book.html)} {img['src']}"
            alt = " ".join(img.get("alt", "").split())
            if not alt or alt.lower().endswith((".png", ".svg", ".jpg")) or "/" in alt.split(" ")[0]:
                problems.append(f"{where}: alt text is a path or empty: {alt!r}")
            if not computed:  # a screenshot with an alt text of its own (the classroom pages): described, not drawn
                continue
            seen += 1
            if caption and alt != caption:
                problems.append(f"{where}: alt text {alt[:60]!r} is not the caption {caption[:60]!r}")
            with Image.open(png) as image:
                dpi, width = image.info.get("dpi", (0, 0))[0], image.size[0]
            shown = int(re.search(r"(\d+)", img.get("style", "") + " " + img.get("width", "0")).group(1))
            if round(dpi) < MIN_DPI:
                problems.append(f"{where}: {dpi:.0f} dpi, at least {MIN_DPI} wanted")
            if width < 1.5 * shown:
                problems.append(f"{where}: {width} px wide, shown {shown} px: under 1.5 image pixels per CSS pixel")
    assert seen >= 20, f"only {seen} figures found: did the page layout change?"
    assert not problems, "\n".join(problems)


def test_every_wide_figure_comes_with_its_phone_layout(built_book):
    """Issue 17: a figure wider than a phone can show with readable labels carries its panels in one column too."""
    from PIL import Image

    from simulations.plots import PHONE_WIDEST_AS_IS

    phone_layouts, problems = 0, []
    for html_file in built_pages(built_book):
        shown = {}
        for img, _, png, computed in figures(html_file):
            if computed:
                shown.setdefault(img.find_parent("figure").get("id") or str(png), []).append((img, png))
        for name, images in shown.items():
            with Image.open(images[0][1]) as image:
                inches = image.size[0] / image.info.get("dpi", (150, 150))[0]
            phones = [img for img, _ in images if "loyalty-phone-figure" in img.get("class", [])]
            phone_layouts += len(phones)
            if inches > PHONE_WIDEST_AS_IS and len(phones) != 1:
                problems.append(f"{html_file.name} {name}: {inches:.1f} inches wide, {len(phones)} phone layouts")
    assert phone_layouts >= 20, f"only {phone_layouts} phone layouts found"
    assert not problems, "\n".join(problems)


def test_every_figure_shows_its_code_one_click_away(built_book):
    """Figure cells are `hide-input` (a toggle over the code), never `remove-input`."""
    from bs4 import BeautifulSoup

    for html_file in built_pages(built_book):
        soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
        for figure in soup.select("article figure"):
            cell = figure.find_parent("div", class_="cell")
            if cell is None or figure.find("img") is None:
                continue
            assert "tag_hide-input" in cell["class"], f"{html_file.name}: figure {figure.get('id')} has no code toggle"
            assert cell.select_one(".cell_input"), f"{html_file.name}: figure {figure.get('id')} lost its code"


LAB_NUMBERS = sorted(int(p.stem[3:]) for p in (ROOT / "book" / "labs").glob("lab*.md"))


@pytest.mark.parametrize("number", LAB_NUMBERS)
def test_lab_figures_carry_their_chapter_number(built_book, number):
    text = (built_book.html / "book" / "labs" / f"lab{number:02d}.html").read_text(encoding="utf-8")
    numbers = re.findall(r'<span class="caption-number">Fig\. ([\d.]+)', text)
    assert numbers, f"lab {number}: no numbered figure"
    # a lab is a section of its chapter, so its figures carry the chapter's number in the reading order
    chapters = [page for page in toc_pages() if re.fullmatch(r"book/ch\d\d_\w+", page)]
    place = 1 + next(i for i, page in enumerate(chapters) if page.startswith(f"book/ch{number:02d}_"))
    assert all(n.startswith(f"{place}.") for n in numbers), f"lab {number} (chapter {place}): figures numbered {numbers}"


def test_build_time_is_reported(built_book, record_property):
    record_property("book_build_seconds", round(built_book.seconds, 1))
    assert built_book.seconds > 0
