"""The built book as a reader sees it: Playwright drives Debian's Chromium over the pages, served on localhost.

Every request that does not go to localhost is blocked, so each test also shows that the page needs no
network. The book is the one built by the `built_book` fixture (tests/conftest.py), shared with
test_book_build.py in the xdist group "book". Screenshots of the chapters go to `_build/screenshots/`.

Chromium: `/usr/bin/chromium` (Debian's package; `make test` installs it). When it is missing the tests
fail on CI (CI=true) and are skipped with a reason elsewhere.
"""

from __future__ import annotations

import functools
import http.server
import threading
from urllib.parse import urlparse

import pytest
import yaml

from conftest import BOOK_GROUP, BUILD, CHAPTERS, CHROMIUM_ARGS, ROOT, require_chromium, toc_pages

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group(BOOK_GROUP)]

SCREENSHOTS = BUILD / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}



def quiz_chapters() -> list[str]:
    """Chapters whose page shows a quiz and whose bank exists."""
    found = []
    for page in CHAPTERS:
        chapter = page.split("/")[-1][:4]
        source = (ROOT / f"{page}.md").read_text(encoding="utf-8")
        if f'show_quiz("{chapter}")' in source and (ROOT / "exercises" / "quizzes" / f"{chapter}.yaml").exists():
            found.append(page)
    return found


# ------------------------------------------------------------------------------------------------ fixtures
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(built_book):
    """The built HTML served on a free localhost port for the duration of the module."""
    assert built_book.returncode == 0 or (built_book.html / "index.html").exists(), "the book did not build"
    handler = functools.partial(_QuietHandler, directory=str(built_book.html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser_context(site, tmp_path_factory):
    """A headless Chromium with a fresh profile; every non-localhost request is blocked and remembered."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        context.blocked = []

        def route(route_request):
            if urlparse(route_request.request.url).hostname in LOCAL_HOSTS:
                route_request.continue_()
            else:
                context.blocked.append(route_request.request.url)
                route_request.abort()

        context.route("**/*", route)
        yield context
        context.close()


@pytest.fixture
def open_page(browser_context, site):
    """Open a book page ('book/ch01_why_loyalty_pays'); returns the page and its JavaScript errors."""
    pages = []

    def opener(path: str, suffix: str = ".html"):
        page = browser_context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(f"uncaught: {error}"))
        page.on("console", lambda message: page.errors.append(f"console error: {message.text} "
                                                              f"({message.location.get('url', '')})")
                if message.type == "error" else None)
        response = page.goto(f"{site}/{path}{suffix}", wait_until="load")
        page.response = response
        pages.append(page)
        return page

    yield opener
    for page in pages:
        page.close()


SHOWN_IMAGES = "Array.from(document.querySelectorAll('article img')).filter(img => img.getClientRects().length)"


def loaded_images(page):
    """(src, naturalWidth) of every image shown in the page's article, after scrolling each into view.

    A wide figure comes twice (its own layout and a phone's, book/_ext/loyalty_lab_html.py): CSS shows one, and
    both load lazily, so only the one shown is fetched, once it comes near the screen.
    """
    page.evaluate(f"""async () => {{
        for (const img of {SHOWN_IMAGES}) {{
            img.scrollIntoView();
            if (!img.complete || !img.naturalWidth) await new Promise(done => {{
                img.addEventListener('load', done); img.addEventListener('error', done); setTimeout(done, 10000); }});
        }} }}""")
    return page.evaluate(f"() => {SHOWN_IMAGES}.map(img => [img.getAttribute('src'), img.naturalWidth])")


# ------------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("path", toc_pages())
def test_every_toc_page_loads_offline_with_text_and_images(open_page, browser_context, path):
    page = open_page(path)
    assert page.response is not None and page.response.ok, f"{path}: HTTP {page.response and page.response.status}"
    heading = page.locator("article h1").first
    assert heading.inner_text().strip(), f"{path}: no title"
    assert len(page.locator("article").inner_text().strip()) > 20, f"{path}: no text"
    broken = [src for src, width in loaded_images(page) if width == 0]
    assert not broken, f"{path}: images that did not load: {broken}"
    own_errors = [e for e in page.errors if "127.0.0.1" in e or e.startswith("uncaught")]
    assert not own_errors, f"{path}: JavaScript errors: {own_errors}"


@pytest.mark.parametrize("path", CHAPTERS)
def test_chapter_page_screenshot_and_figures(open_page, path):
    page = open_page(path)
    figures = page.locator("article figure img")
    names = [src for src, width in loaded_images(page) if width > 0]
    if (ROOT / f"{path}.md").read_text(encoding="utf-8").count("figure:") >= 1:
        assert figures.count() >= 1 and names, f"{path}: the chapter's figures are not shown"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{path.split('/')[-1]}.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000


PHONE = {"width": 390, "height": 844}  # a common phone's screen in CSS px (its text column is 358 px)
MIN_CSS_PX_PER_FIGURE_INCH = 85  # a 10-point label at least 11.8 CSS px high
FIGURE_DPI = 150


def figure_geometry(page):
    """For each figure image: natural width, shown width (CSS px) and the width of the text column it sits in."""
    loaded_images(page)
    return page.evaluate("""() => Array.from(document.querySelectorAll('article figure img'))
        .filter(img => img.getClientRects().length).map(img => ({
        src: img.getAttribute('src'), natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
        left: img.getBoundingClientRect().left, right: img.getBoundingClientRect().right,
        column: img.closest('article').getBoundingClientRect().width}))""")


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours (alpha ignored)."""
    def luminance(colour):
        channels = [int(float(c)) / 255 for c in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


LABS = sorted(f"book/labs/{p.stem}" for p in (ROOT / "book" / "labs").glob("lab*.md"))


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("path", CHAPTERS + LABS)
def test_figure_labels_are_readable_on_desktop_and_phone(open_page, path, viewport):
    """Each figure is shown at >= 85 CSS px per figure inch, with >= 1.5 image pixels per CSS pixel.

    On a 390 px phone a wide figure shows its phone layout (its panels in one column, drawn for the phone's
    column: simulations.plots.phone_layout), so it fits the screen with its labels at their size; nothing on the
    page is wider than the screen (issue 17). The screenshots of the phone layout go to _build/screenshots/phone/.
    """
    page = open_page(path)
    if viewport == "phone":
        page.set_viewport_size(PHONE)
    problems = []
    figures = figure_geometry(page)
    for figure in figures:
        per_inch = figure["shown"] / (figure["natural"] / FIGURE_DPI)
        if per_inch < MIN_CSS_PX_PER_FIGURE_INCH:
            problems.append(f"{figure['src']}: {per_inch:.0f} CSS px per figure inch in a {figure['column']:.0f} px column")
        if figure["natural"] < 1.5 * figure["shown"]:
            problems.append(f"{figure['src']}: {figure['natural']} px shown at {figure['shown']:.0f} px")
        if figure["left"] < 0 or figure["right"] > page.viewport_size["width"]:
            problems.append(f"{figure['src']}: shown from {figure['left']:.0f} to {figure['right']:.0f} px, outside the screen")
    assert not problems, f"{path} ({viewport}): " + "; ".join(problems)
    if viewport == "phone":
        from simulations.plots import PHONE_WIDEST_AS_IS

        too_wide = [f["src"] for f in figures if not f["src"].endswith(".phone.png")
                    and f["natural"] / FIGURE_DPI > PHONE_WIDEST_AS_IS + 0.05]
        assert not too_wide, f"{path}: wide figures without their phone layout on a phone: {too_wide}"
        overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path}: the page scrolls sideways by {overflow} px on a 390 px phone"
        (SCREENSHOTS / "phone").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "phone" / f"{path.split('/')[-1]}.png"), full_page=False)


@pytest.mark.parametrize("path", toc_pages())
def test_no_page_scrolls_sideways_on_a_390_px_phone(open_page, path):
    """Issue 17: nothing (a figure, an explorable, a table, a long name in code) makes a page wider than a phone."""
    page = open_page(path)
    page.set_viewport_size(PHONE)
    loaded_images(page)
    overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path}: the page scrolls sideways by {overflow} px on a 390 px phone"


@pytest.mark.parametrize("path", CHAPTERS[:1])
def test_captions_have_readable_contrast(open_page, path):
    page = open_page(path)
    colours = page.evaluate("""() => Array.from(document.querySelectorAll('article figcaption')).map(caption => {
        const text = caption.querySelector('.caption-text') || caption;
        let node = caption, background = 'rgba(0, 0, 0, 0)';
        while (node && background.startsWith('rgba(0, 0, 0, 0)')) {
            background = getComputedStyle(node).backgroundColor; node = node.parentElement; }
        return [getComputedStyle(text).color, background.startsWith('rgba(0, 0, 0, 0)') ? 'rgb(255, 255, 255)' : background];
    })""")
    assert colours, f"{path}: no captions"
    ratios = [contrast_ratio(foreground, background) for foreground, background in colours]
    assert min(ratios) >= 7, f"{path}: caption contrast {min(ratios):.1f}:1, at least 7:1 (WCAG AAA) wanted"


@pytest.mark.parametrize("path", quiz_chapters())
def test_quiz_answers_show_the_feedback_from_the_bank(open_page, path):
    chapter = path.split("/")[-1][:4]
    bank = yaml.safe_load((ROOT / "exercises" / "quizzes" / f"{chapter}.yaml").read_text(encoding="utf-8"))
    page = open_page(path)
    page.wait_for_selector(".Quiz")
    assert page.locator(".Quiz").count() == len(bank["questions"])

    question = next(q for q in bank["questions"] if q["type"] == "single")
    quiz = page.locator(".Quiz", has_text=question["question"].strip())
    feedback = quiz.locator(".Feedback")
    wrong = next(a for a in question["answers"] if not a["correct"])
    right = next(a for a in question["answers"] if a["correct"])
    for answer, css in ((wrong, "incorrect"), (right, "correct")):
        quiz.get_by_text(answer["text"].strip(), exact=True).click()
        assert " ".join(feedback.inner_text().split()) == " ".join(answer["feedback"].split())
        assert css in feedback.get_attribute("class").split()

    many = next((q for q in bank["questions"] if q["type"] == "many"), None)
    if many:
        quiz = page.locator(".Quiz", has_text=many["question"].strip())
        right = next(a for a in many["answers"] if a["correct"])
        quiz.get_by_text(right["text"].strip(), exact=True).click()
        assert " ".join(right["feedback"].split()) in " ".join(quiz.locator(".Feedback").inner_text().split())
    assert not [e for e in page.errors if e.startswith("uncaught")], page.errors


def test_exercise_solution_dropdown_opens(open_page):
    page = open_page(CHAPTERS[0])
    solution = page.locator("div.solution.dropdown").first
    body = solution.locator("div.cell, p").last
    assert not body.is_visible(), "the solution should start folded"
    solution.locator(".admonition-title").click()
    body.wait_for(state="visible", timeout=5000)
    assert body.is_visible()


def test_search_finds_platinum(open_page):
    page = open_page("search", suffix=".html?q=Platinum")
    page.wait_for_selector("#search-results li", timeout=20000)
    results = page.locator("#search-results li")
    assert results.count() >= 1
    assert "glossary" in " ".join(results.all_inner_texts()).lower() or results.count() >= 2


def test_no_page_asked_for_the_network(browser_context, open_page):
    """Run last in the module: by now every page has been opened with remote requests blocked."""
    for path in [*toc_pages(), "search"]:
        open_page(path)
    assert not browser_context.blocked, f"pages tried to fetch from the network: {sorted(set(browser_context.blocked))}"
