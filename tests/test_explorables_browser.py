"""Every chapter's explorable in Chromium: it renders offline, a slider (and a select) redraws it, no JavaScript errors.

Playwright drives Debian's Chromium over the book built by the `built_book` fixture, served on localhost; every
request that does not go to localhost is blocked and recorded (the fixtures of test_browser.py).
"""

from __future__ import annotations

import json

import pytest

from conftest import BOOK_GROUP, CHAPTERS
from simulations.explorables import explorable_spec
from test_browser import SCREENSHOTS, browser_context, open_page, site  # noqa: F401  (fixtures shared with the book's browser tests)

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group(BOOK_GROUP)]

READY = ".loyalty-explorable[data-ready='true']"
BARS = ".loyalty-explorable-view svg .mark-rect path"  # one path per bar, as Vega draws rect marks in SVG


def ready_page(open_page, path):  # noqa: F811
    page = open_page(path)
    page.locator(".loyalty-explorable").scroll_into_view_if_needed()
    page.wait_for_selector(READY, timeout=30_000)
    return page


def bar_shapes(page) -> list[str]:
    return page.eval_on_selector_all(BARS, "paths => paths.map(p => p.getAttribute('d'))")


def page_spec(page) -> dict:
    return json.loads(page.locator("script.loyalty-explorable-spec").text_content())


def bars_at(spec: dict, point: dict) -> int:
    """Bars the chart should draw at `point`: rows of the bar panels (numbered; the line charts are named) there
    with a value (Vega skips nulls)."""
    return sum(1 for row in spec["data"]["values"] if isinstance(row["panel"], int) and row["value"] is not None
               and all(row[name] == value for name, value in point.items()))


def move_slider(page, name: str, value: float):
    """Set a bound range input the way a drag does: a new value, then the input event Vega listens to."""
    page.eval_on_selector(f".loyalty-explorable .vega-bind input[type=range][name='p_{name}']",
                          "(input, value) => { input.value = value; input.dispatchEvent(new Event('input', {bubbles: true})); }",
                          value)


@pytest.mark.parametrize("path", CHAPTERS)
def test_explorable_renders_offline_and_a_slider_redraws_it(open_page, browser_context, path):  # noqa: F811
    chapter = path.split("/")[-1][:4]
    spec = explorable_spec(chapter)
    blocked_before = len(browser_context.blocked)
    page = ready_page(open_page, path)

    assert page.locator(".loyalty-explorable").count() == 1
    shown = page_spec(page)
    default = spec.default_point()
    assert page.locator(BARS).count() == bars_at(shown, default) > 0, "the default point's bars are not all drawn"
    assert page.locator(".loyalty-explorable-view svg .mark-symbol path").count() >= 1, "the headline chart is empty"
    assert "grid points" in page.locator(".loyalty-explorable-caption").inner_text()

    slider = next(axis for axis in spec.axes if not axis.is_select)
    target = slider.values[-1] if slider.default != slider.values[-1] else slider.values[0]
    before = bar_shapes(page)
    move_slider(page, slider.name, target)
    page.wait_for_function(f"before => JSON.stringify(Array.from(document.querySelectorAll({json.dumps(BARS)}))"
                           ".map(p => p.getAttribute('d'))) !== before", arg=json.dumps(before), timeout=10_000)
    assert bar_shapes(page) != before
    assert page.locator(BARS).count() == bars_at(shown, {**default, slider.name: target})

    select = next((axis for axis in spec.axes if axis.is_select), None)
    if select is not None:
        choice = next(value for value in select.values if value != select.default)
        before = bar_shapes(page)
        page.locator(f".loyalty-explorable .vega-bind select[name='p_{select.name}']").select_option(choice)
        page.wait_for_function(f"before => JSON.stringify(Array.from(document.querySelectorAll({json.dumps(BARS)}))"
                               ".map(p => p.getAttribute('d'))) !== before", arg=json.dumps(before), timeout=10_000)

    assert browser_context.blocked[blocked_before:] == [], "requests left the machine"
    assert page.locator(".loyalty-explorable[data-error]").count() == 0
    assert page.errors == [], f"JavaScript errors: {page.errors}"


def test_library_is_served_by_the_book_and_only_where_needed(open_page, built_book):  # noqa: F811
    static = built_book.html / "_static" / "explorables"
    for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "loyalty_explorables.js"):
        assert (static / name).stat().st_size > 1000, name
    chapter = (built_book.html / f"{CHAPTERS[0]}.html").read_text(encoding="utf-8")
    assert 'src="../_static/explorables/vega-embed.min.js' in chapter  # the book's own copy, never a CDN
    index = (built_book.html / "index.html").read_text(encoding="utf-8")
    assert "vega-embed.min.js" not in index  # pages without an explorable do not load 0.8 MB of JavaScript


PHONE = {"width": 390, "height": 844}


def explorable_geometry(page) -> dict:
    return page.evaluate("""() => {
        const box = element => element.getBoundingClientRect();
        const explorable = document.querySelector('.loyalty-explorable');
        const view = explorable.querySelector('.loyalty-explorable-view');
        const parts = [explorable, view, view.querySelector('svg'), ...explorable.querySelectorAll('.vega-bind')];
        return {screen: innerWidth, page: document.scrollingElement.scrollWidth,
                left: Math.min(...parts.map(p => box(p).left)), right: Math.max(...parts.map(p => box(p).right)),
                view_scroll: view.scrollWidth - view.clientWidth, columns: explorable.getAttribute('data-columns')};
    }""")


@pytest.mark.parametrize("path", CHAPTERS)
def test_explorable_fits_a_390_px_phone_before_and_after_a_slider_moves(open_page, path):  # noqa: F811
    """Charts one below the other, each narrowed to the column; sliders and selects wrap within it (issue 16)."""
    chapter = path.split("/")[-1][:4]
    page = open_page(path)
    page.set_viewport_size(PHONE)
    page.reload(wait_until="load")
    page.locator(".loyalty-explorable").scroll_into_view_if_needed()
    page.wait_for_selector(READY, timeout=30_000)
    spec = explorable_spec(chapter)
    slider = next(axis for axis in spec.axes if not axis.is_select)
    for value in (slider.default, slider.values[-1], slider.values[0]):
        move_slider(page, slider.name, value)
        page.evaluate("() => Promise.all(window.loyaltyExplorables.map(view => view.runAsync())).then(() => true)")
        shape = explorable_geometry(page)
        assert shape["columns"] == "1", shape
        assert shape["left"] >= 0 and shape["right"] <= shape["screen"], f"{chapter} at {slider.name}={value}: {shape}"
        assert shape["view_scroll"] <= 0 and shape["page"] <= shape["screen"], f"{chapter}: scrolls sideways: {shape}"
    (SCREENSHOTS / "phone").mkdir(parents=True, exist_ok=True)
    page.add_style_tag(content=".bd-header, .skip-link { visibility: hidden !important; }")  # sticky, not the chart
    page.locator(".loyalty-explorable").screenshot(path=str(SCREENSHOTS / "phone" / f"{chapter}_explorable.png"))
    assert page.errors == [], page.errors


def test_a_band_of_too_few_customers_is_marked_not_drawn(open_page):  # noqa: F811
    """ch04: at the grid point with the most bands under the figures' threshold, each such band is labelled
    instead of drawn, and every other band has its bar."""
    from simulations.explorables import HIDDEN_NOTE

    page = ready_page(open_page, "book/ch04_satisfaction_and_loyalty")
    rows = [row for row in page_spec(page)["data"]["values"] if row["panel"] == 0]
    points = {(row["competitive_intensity"], row["product_quality"]) for row in rows}
    hidden_at = {point: sum(1 for row in rows if row["value"] is None
                            and (row["competitive_intensity"], row["product_quality"]) == point) for point in points}
    point = max(sorted(points), key=hidden_at.get)
    move_slider(page, "competitive_intensity", point[0])
    move_slider(page, "product_quality", point[1])
    page.evaluate("() => Promise.all(window.loyaltyExplorables.map(view => view.runAsync())).then(() => true)")
    notes = page.eval_on_selector_all(".loyalty-explorable-view svg .mark-text text",
                                      f"texts => texts.filter(t => t.textContent === {json.dumps(HIDDEN_NOTE)}).length")
    assert notes == hidden_at[point]
    assert page.locator(BARS).count() == bars_at(page_spec(page), {"competitive_intensity": point[0],
                                                                 "product_quality": point[1]})
