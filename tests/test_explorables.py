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
    assert len(spec.line_charts()) == 2  # retention against competition, and profit against quality
    assert len(small_ch04["rows"]) == small_ch04["grid_points"] * (bars + 2)
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


@pytest.mark.parametrize("bad", ["ch09", "ch4", "", "CH04"])
def test_unknown_chapter_is_a_clear_error(bad):
    with pytest.raises(InvalidParameter) as error:
        compute_explorable(bad)
    message = str(error.value)
    assert "'chapter'" in message and repr(bad) in message and "ch01" in message and "ch08" in message


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


# ------------------------------------------------------------------------------ telling the truth (issue 16)
@pytest.mark.parametrize("chapter", CHAPTER_IDS)
def test_every_explorable_shows_profit_at_every_point(chapter):
    """Profit beside what the chapter teaches, so the top of a slider never looks best only because cost is hidden."""
    spec = explorable_spec(chapter)
    profit_charts = [chart for chart in spec.line_charts() if chart[1] == "profit"]
    assert len(profit_charts) == 1, chapter
    chart_id = profit_charts[0][0]
    result = compute_explorable(chapter, n_customers=60, seeds=(1,))
    profit_rows = [row for row in result["rows"] if row["panel"] == chart_id]
    assert len(profit_rows) == result["grid_points"]
    assert all(row["value"] is not None and math.isfinite(row["value"]) for row in profit_rows)
    titles = [" ".join(chart["title"]) for chart in result["vega_lite"]["concat"]]
    assert any("profit over 36 months" in title for title in titles), titles


@pytest.mark.parametrize("chapter, axis", [("ch05", "bonds"), ("ch06", "feedback_channel")])
def test_profit_is_plotted_against_the_lever_the_chapter_warns_about(chapter, axis):
    """ch05: bonding 'peaks at a modest investment'; ch06: a fully staffed feedback channel makes profit fall."""
    (profit,) = [chart for chart in explorable_spec(chapter).line_charts() if chart[1] == "profit"]
    assert profit[4].name == axis


def test_profit_is_the_models_own_record():
    """The profit drawn at a point is what the model's ledger says for the same run (averaged over the seeds)."""
    from simulations import LoyaltyMarket, metrics

    result = compute_explorable("ch06", n_customers=120, seeds=(1, 2))
    row = next(r for r in result["rows"] if r["panel"] == "profit" and r["frontline_care"] == 0.5
               and r["feedback_channel"] == 1.0)
    profits = []
    for seed in (1, 2):
        model = LoyaltyMarket("telecom", strategy=Strategy.preset("balanced").replace(frontline_care=0.5,
                              feedback_channel=1.0), n_customers=120, seed=seed)
        model.run(36)
        profits.append(metrics.outcomes(model)["profit"])
    assert row["value"] == pytest.approx(sum(profits) / 2 / 1000, abs=0.051)


def test_bands_of_too_few_customers_are_left_out_by_the_figures_rule(small_ch04, monkeypatch):
    """One rule for figures and explorables: metrics.MIN_GROUP_CUSTOMERS, over the seeds' customers together."""
    from simulations import metrics

    bands = [r for r in small_ch04["rows"] if r["panel"] == 0]
    assert bands and all("customers" in r for r in bands)
    small = [r for r in bands if r["customers"] < metrics.MIN_GROUP_CUSTOMERS]
    large = [r for r in bands if r["customers"] >= metrics.MIN_GROUP_CUSTOMERS]
    assert small and large, "120 customers should leave some bands small and some not"
    assert all(r["value"] is None for r in small)
    assert all(r["value"] is not None for r in large)
    text = json.dumps(small_ch04["vega_lite"])
    assert explorables.HIDDEN_NOTE in text and "datum.value === null" in text  # marked where the bar would be
    assert f"fewer than {metrics.MIN_GROUP_CUSTOMERS} customers" in small_ch04["caption"]

    monkeypatch.setattr(metrics, "MIN_GROUP_CUSTOMERS", 10**9)  # the explorable follows the one rule
    everything_small = compute_explorable("ch04", **SMALL)
    assert all(r["value"] is None for r in everything_small["rows"] if r["panel"] == 0)


def test_the_static_figure_uses_the_same_band_rule():
    import matplotlib
    import pandas as pd

    matplotlib.use("Agg")
    from simulations import metrics, plots

    bands = pd.DataFrame({"band": ["a", "b", "c"], "low": [0, 0.4, 0.7],
                          "customers": [metrics.MIN_GROUP_CUSTOMERS - 1, metrics.MIN_GROUP_CUSTOMERS, 500],
                          "retention": [1.0, 0.5, 0.9]})
    ax = plots.plot_satisfaction_retention(bands)
    assert list(ax.lines[0].get_ydata()) == [0.5, 0.9]


def _bar_colours(result) -> dict[str, str]:
    colours = {}
    for chart in result["vega_lite"]["concat"]:
        for layer in chart.get("layer", []):
            colour = layer.get("encoding", {}).get("color")
            if colour:
                colours.update(zip(colour["scale"]["domain"], colour["scale"]["range"]))
    return colours


def test_colours_of_tiers_causes_and_quadrants_match_the_static_figures():
    from simulations import plots, rules

    tiers = _bar_colours(compute_explorable("ch03", n_customers=60, seeds=(1,)))
    assert {t.capitalize(): plots.TIER_COLOURS[t] for t in rules.TIERS}.items() <= tiers.items()
    bonds = _bar_colours(compute_explorable("ch05", n_customers=60, seeds=(1,)))
    assert {plots.CAUSE_LABELS[c]: plots.CAUSE_COLOURS[c] for c in rules.CHURN_CAUSES}.items() <= bonds.items()
    assert {q: plots.QUADRANT_COLOURS[q] for q in rules.QUADRANTS}.items() <= bonds.items()
    for chapter in ("ch06", "ch08"):  # ch07 shows customers won and lost, not causes
        causes = _bar_colours(compute_explorable(chapter, n_customers=60, seeds=(1,)))
        assert {plots.CAUSE_LABELS[c]: plots.CAUSE_COLOURS[c] for c in rules.CHURN_CAUSES}.items() <= causes.items()


def test_chart_titles_are_wrapped_for_a_phone_never_cut(small_ch04):
    for chart in small_ch04["vega_lite"]["concat"]:
        assert isinstance(chart["title"], list)
        assert all(len(line) <= explorables.TITLE_CHARACTERS for line in chart["title"])
    assert small_ch04["vega_lite"]["config"]["title"]["limit"] == 0
