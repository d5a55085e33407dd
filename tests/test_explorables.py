"""The chapter explorables' grids (simulations.explorables) and the book extension that serves their chart library.

The browser side (the chart renders offline, a slider redraws it) is in test_explorables_browser.py.
"""

from __future__ import annotations

import importlib.util
import json
import math

import pytest

from conftest import CHAPTERS, ROOT
from simulations import Strategy, explorables
from simulations.errors import InvalidParameter
from simulations.explorables import EXPLORABLES, compute_explorable, explorable_spec, show_explorable
from simulations.parameters import LEVERS_BY_NAME, SETTINGS_BY_NAME

SMALL = dict(n_customers=120, seeds=(1,))  # the grid's shape does not depend on the run's size
CHAPTER_IDS = [page.split("/")[-1][:4] for page in CHAPTERS]


@pytest.fixture(scope="module")
def small_ch04():
    return compute_explorable("ch04", **SMALL)


def test_every_chapter_declares_an_explorable_and_shows_it_once():
    assert sorted(EXPLORABLES) == sorted(CHAPTER_IDS)
    for page in CHAPTERS:
        source = (ROOT / f"{page}.md").read_text(encoding="utf-8")
        assert source.count("show_explorable(") == 1, page
        assert f'show_explorable("{page.split("/")[-1][:4]}")' in source, page


@pytest.mark.parametrize("chapter", CHAPTER_IDS)
def test_every_axis_is_a_real_lever_or_setting_with_valid_values(chapter):
    spec = explorable_spec(chapter)
    assert 1 <= len(spec.axes) <= 3 and spec.axes[0].default in spec.axes[0].values
    for axis in spec.axes:
        assert axis.default in axis.values, (chapter, axis.name)
        if axis.name == "preset":
            assert all(Strategy.preset(value) for value in axis.values)
        elif axis.name == "scenario":
            from simulations import list_scenarios
            assert set(axis.values) <= set(list_scenarios())
        elif axis.is_setting:
            for value in axis.values:
                SETTINGS_BY_NAME[axis.name].check(value, "test")
        else:
            for lever in axis.targets():
                for value in axis.values:
                    LEVERS_BY_NAME[lever].check(value, "test")
    # the grid stays small enough to compute in seconds and to ship in a page
    assert 10 <= len(spec.grid()) <= 100
    assert 1000 <= spec.n_customers <= 2000 and 2 <= len(spec.seeds) <= 3 and spec.months == 36


def test_grid_shape_rows_and_sliders(small_ch04):
    spec = explorable_spec("ch04")
    bars = sum(len(panel.measures) for panel in spec.panels)
    assert small_ch04["grid_points"] == len(spec.grid()) == 7 * 3
    assert len(small_ch04["rows"]) == small_ch04["grid_points"] * (bars + 1)
    points = {(r["competitive_intensity"], r["product_quality"]) for r in small_ch04["rows"]}
    assert len(points) == 21 and (0.05, 0.3) in points and (0.95, 0.9) in points
    for row in small_ch04["rows"]:
        assert row["value"] is None or math.isfinite(row["value"])
    headline = [r for r in small_ch04["rows"] if r["panel"] == "headline"]
    assert len(headline) == 21 and all(0 <= r["value"] <= 1 for r in headline)

    params = {p["name"]: p for p in small_ch04["vega_lite"]["params"]}
    slider = params["p_competitive_intensity"]["bind"]
    assert (slider["input"], slider["min"], slider["max"], slider["step"]) == ("range", 0.05, 0.95, 0.15)
    assert params["p_competitive_intensity"]["value"] == 0.5
    # every slider position lands on a grid value: the filter finds one row per bar
    for i in range(7):
        value = round(slider["min"] + i * slider["step"], 10)
        assert any(abs(r["competitive_intensity"] - value) < 1e-6 for r in small_ch04["rows"])


def test_selects_offer_the_grid_values():
    result = compute_explorable("ch05", **SMALL)
    programme = next(p for p in result["vega_lite"]["params"] if p["name"] == "p_loyalty_programme")
    assert programme["bind"]["input"] == "select"
    assert programme["bind"]["options"] == list(LEVERS_BY_NAME["loyalty_programme"].choices)
    assert {r["loyalty_programme"] for r in result["rows"]} == set(LEVERS_BY_NAME["loyalty_programme"].choices)


def test_same_seeds_same_grid_other_seeds_other_grid(small_ch04):
    again = compute_explorable("ch04", **SMALL)
    assert again == small_ch04
    other = compute_explorable("ch04", n_customers=120, seeds=(2,))
    assert [r["value"] for r in other["rows"]] != [r["value"] for r in small_ch04["rows"]]


def test_the_levers_move_the_numbers(small_ch04):
    """A grid whose points all gave the same numbers would make a slider that redraws nothing."""
    headline = {r["competitive_intensity"]: r["value"] for r in small_ch04["rows"]
                if r["panel"] == "headline" and r["product_quality"] == 0.6}
    assert headline[0.05] > headline[0.95]  # competition takes customers away (Jones & Sasser)


def test_seeds_are_averaged():
    one = compute_explorable("ch06", n_customers=120, seeds=(1,))["rows"]
    two = compute_explorable("ch06", n_customers=120, seeds=(2,))["rows"]
    both = compute_explorable("ch06", n_customers=120, seeds=(1, 2))["rows"]
    for a, b, mean in zip(one, two, both):
        if a["panel"] == "headline":
            assert mean["value"] == pytest.approx((a["value"] + b["value"]) / 2, abs=2e-4)


@pytest.mark.parametrize("chapter", CHAPTER_IDS)
def test_every_page_carries_well_under_a_megabyte(chapter):
    result = compute_explorable(chapter, n_customers=60, seeds=(1,))
    size = explorables.data_size(result)
    assert size < 250_000, f"{chapter}: {size} bytes of data and spec"
    json.dumps(result["vega_lite"], allow_nan=False)  # valid JSON for the browser: no NaN


def test_caption_says_what_was_precomputed_and_where_to_go_next(small_ch04):
    caption = small_ch04["caption"]
    assert "21 grid points" in caption and "competitive intensity (7 values)" in caption
    assert "seeds 1" in caption and "120 customers" in caption and "36 months" in caption
    assert "from simulations.widgets import satisfaction_widget" in caption
    import simulations.widgets as widgets
    for spec in EXPLORABLES.values():
        assert callable(getattr(widgets, spec.widget)), spec.widget


@pytest.mark.parametrize("bad", ["ch08", "ch4", "", "CH04"])
def test_unknown_chapter_is_a_clear_error(bad):
    with pytest.raises(InvalidParameter) as error:
        compute_explorable(bad)
    message = str(error.value)
    assert "'chapter'" in message and repr(bad) in message and "ch01" in message and "ch07" in message


def test_in_the_book_the_cell_emits_data_and_spec_but_no_code(monkeypatch, small_ch04):
    monkeypatch.setenv(explorables.MODE_VARIABLE, explorables.INTERACTIVE)
    monkeypatch.setattr(explorables, "compute_explorable", lambda chapter: small_ch04)
    block = show_explorable("ch04")
    html = block._repr_html_()
    assert "21 grid points" in repr(block)  # the text/plain a downloaded notebook keeps beside the HTML
    assert 'class="loyalty-explorable"' in html and 'data-chapter="ch04"' in html
    start = html.index('<script type="application/json" class="loyalty-explorable-spec">')
    body = html[html.index(">", start) + 1:html.index("</script>", start)]
    assert json.loads(body) == small_ch04["vega_lite"]
    assert html.count("<script") == 1  # data only: the book's own loader draws it
    assert "<code>from simulations.widgets import satisfaction_widget; satisfaction_widget()</code>" in html


def test_in_a_notebook_the_cell_shows_a_static_figure(monkeypatch):
    monkeypatch.delenv(explorables.MODE_VARIABLE, raising=False)
    monkeypatch.setattr(explorables.StaticExplorable.__init__, "__defaults__", (120, (1,)))
    shown = show_explorable("ch03")
    bundle = shown._repr_mimebundle_()
    import base64
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert "tier_service_widget()" in bundle["text/plain"]
    assert len(shown.figure.axes) == len(explorable_spec("ch03").panels)


def _extension():
    spec = importlib.util.spec_from_file_location("loyalty_lab_explorables", ROOT / "book/_ext/loyalty_lab_explorables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_extension_names_the_install_step_when_the_library_is_missing(monkeypatch, tmp_path):
    from sphinx.errors import ExtensionError

    extension = _extension()
    monkeypatch.setattr(extension, "NODE_MODULES", tmp_path)
    with pytest.raises(ExtensionError, match="tools/install_explorable_assets.sh"):
        extension.library_files()
    assert extension.MODE_VARIABLE == explorables.MODE_VARIABLE and extension.INTERACTIVE == explorables.INTERACTIVE


def test_the_chart_library_is_pinned_and_comes_from_the_lock_file():
    package = json.loads((ROOT / "tools/explorables/package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "tools/explorables/package-lock.json").read_text(encoding="utf-8"))
    for name, version in package["dependencies"].items():
        assert version[0].isdigit(), f"{name} must be pinned to an exact version, not {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
