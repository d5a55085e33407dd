"""The explorable on every chapter page: the model precomputed over a small grid of levers, redrawn in the browser.

Python cannot run in the book's pages (no WebAssembly numpy can be had offline), so each chapter declares
here which levers or settings a reader may move and what the chart shows; `compute_explorable` runs the
model over that grid at build time, averaged over a few seeds, and returns the data and a Vega-Lite
specification. In the built book the chart is drawn and redrawn by vega-embed, which the book serves itself
(tools/install_explorable_assets.sh, book/_ext/loyalty_lab_explorables.py): no kernel, no outside request.

    from simulations.explorables import compute_explorable, show_explorable
    compute_explorable("ch04")     # {"chapter", "axes", "rows", "vega_lite", "caption", ...}
    show_explorable("ch04")        # what a chapter's cell displays

`show_explorable` decides what to display by where it runs. The book's Sphinx extension sets the environment
variable LOYALTY_LAB_EXPLORABLES=interactive for the kernels that execute the pages, and there the cell emits
the HTML block (data and spec, no script). Anywhere else (a downloaded notebook in Jupyter, Colab, the
notebook tests) no chart library is at hand, so the cell shows a static matplotlib figure of the default
point, computed the same way, and the caption names the notebook widget that moves the levers live.
Only the model's public interface is used (LoyaltyMarket, Strategy, metrics).

What every explorable shows, so that it teaches what its chapter does (issue 16): profit over the run beside the
measure it teaches (from the model's own ledger, `metrics.outcomes`), so the top of a slider never looks best only
because its cost is left out; no share of a group under `metrics.MIN_GROUP_CUSTOMERS` customers (the figures' rule:
it is marked instead); tiers, churn causes and Jones & Sasser groups in the static figures' colours
(`simulations.plots`). The page's loader lays the charts out in one column on a phone.

Every label, title, caption and control name is English in the declarations below (marked with `N_`) and translated
with `_()` when the chart is computed (simulations.i18n), so a page executed with LOYALTY_LAB_LANGUAGE=it gets an
Italian chart; the data's keys, the axes' names and the select's values stay English.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import textwrap
from dataclasses import dataclass, field

import numpy as np

from . import metrics, plots, rules
from .errors import InvalidParameter
from .i18n import N_, _, format_number, get_language
from .model import LoyaltyMarket
from .parameters import LEVERS_BY_NAME, SETTINGS_BY_NAME
from .strategy import Strategy

MODE_VARIABLE = "LOYALTY_LAB_EXPLORABLES"  # set to "interactive" by the book's extension for the build's kernels
INTERACTIVE = "interactive"
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier only: nothing is fetched
BAND_MONTHS = 12  # retention by satisfaction band follows the customers over the last year of the run
YOU = "you"  # the reader's firm, in a chapter whose market has rival firms


@dataclass(frozen=True)
class Axis:
    """One lever or scenario setting the reader can move: a slider over evenly spaced numbers, or a select.

    `levers` are the strategy levers set to the axis value (several for a grouped axis such as "service to
    the top tiers"); an axis named after a scenario setting is passed to the market instead.
    """

    name: str
    label: str
    values: tuple
    default: float | str
    levers: tuple[str, ...] = ()

    @property
    def is_select(self) -> bool:
        return isinstance(self.values[0], str)

    @property
    def is_setting(self) -> bool:
        return self.name in SETTINGS_BY_NAME and not self.levers

    def targets(self) -> tuple[str, ...]:
        return self.levers or (() if self.is_setting else (self.name,))


def evenly(low: float, high: float, step: float) -> tuple[float, ...]:
    """Grid values from low to high by step, rounded so that the browser's slider lands on them exactly."""
    count = int(round((high - low) / step)) + 1
    return tuple(round(low + i * step, 6) for i in range(count))


@dataclass(frozen=True)
class Panel:
    """A bar chart: one bar per measure (key, label) at the chosen point.

    `colours` are the bars' colours, from the palette of the static figures (simulations.plots), so a tier or a
    cause looks the same in both; without them every bar has the book's plain bar colour. `group_sizes` names,
    for each measure that is a share of a group, the measure counting that group's customers: a share of fewer
    than `metrics.MIN_GROUP_CUSTOMERS` (summed over the seeds) is left out and marked, as the figures leave it out.
    """

    title: str
    measures: tuple[tuple[str, str], ...]
    unit: str
    scale: float = 1.0  # divide by this (money in thousands)
    colours: tuple[str, ...] = ()
    group_sizes: tuple[str, ...] = ()

    def bar_colours(self) -> list[str]:
        return list(self.colours) or [plots.BAR_COLOUR] * len(self.measures)


@dataclass(frozen=True)
class Explorable:
    """What one chapter lets a reader explore, and how big the precomputed grid is."""

    chapter: str
    title: str
    scenario: str
    axes: tuple[Axis, ...]  # the first axis is the x axis of the headline chart
    panels: tuple[Panel, ...]
    headline: tuple[str, str, float]  # (measure, label, scale): plotted against the first axis
    widget: str  # the notebook widget that moves these levers live
    profit_axis: str = ""  # profit is plotted against this axis (the first by default), unless the headline is profit
    strategy: dict = field(default_factory=dict)  # levers fixed for the whole grid
    settings: dict = field(default_factory=dict)  # scenario settings fixed for the whole grid
    n_customers: int = 1000
    months: int = 36
    seeds: tuple[int, ...] = (1, 2)
    bands: bool = False  # measure retention by satisfaction band over the last BAND_MONTHS
    rivals: dict = field(default_factory=dict)  # rival firms in the same market: the reader's firm is "you"

    def grid(self) -> list[dict]:
        """Every point of the grid, as {axis name: value}."""
        return [dict(zip((a.name for a in self.axes), values)) for values in
                itertools.product(*(a.values for a in self.axes))]

    def default_point(self) -> dict:
        return {a.name: a.default for a in self.axes}

    def axis(self, name: str) -> Axis:
        return next(a for a in self.axes if a.name == name)

    def line_charts(self) -> list[tuple[str, str, str, float, Axis]]:
        """(panel id, measure, label, scale, x axis) of each line chart: the headline, and profit beside it.

        Profit is always shown next to what a chapter teaches, so that the top of a slider never looks best only
        because the chart leaves out what it costs.
        """
        key, label, scale = self.headline
        charts = [("headline", key, _(label), scale, self.axes[0])]
        profit_axis = self.axis(self.profit_axis) if self.profit_axis else self.axes[0]
        if not (key == "profit" and profit_axis is self.axes[0]):
            label = (_("your profit over {months} months (thousands)") if self.rivals
                     else _("profit over {months} months (thousands)"))
            charts.append(("profit", "profit", label.format(months=self.months), _K, profit_axis))
        return charts


_UNIT = evenly(0.0, 1.0, 0.25)
_K = 1000.0
_TIER_LABELS = tuple((t, plots.TIER_LABELS[t]) for t in rules.TIERS)
_TIER_COLOURS = tuple(plots.TIER_COLOURS[t] for t in rules.TIERS)
_CHURN = Panel(N_("Customers lost over the run, by cause"),
               tuple((f"churned_{c}", plots.CAUSE_LABELS[c]) for c in rules.CHURN_CAUSES), N_("customers lost"),
               colours=tuple(plots.CAUSE_COLOURS[c] for c in rules.CHURN_CAUSES))
_BAND_KEYS = tuple(name.replace(" ", "_") for _low, _high, name in metrics.SATISFACTION_BANDS)

EXPLORABLES: dict[str, Explorable] = {spec.chapter: spec for spec in (
    Explorable(
        "ch01", N_("Care, quality and three years of profit"), "telecom",
        (Axis("frontline_care", N_("frontline care"), _UNIT, 0.5),
         Axis("product_quality", N_("product quality"), evenly(0.2, 1.0, 0.2), 0.6)),
        (Panel(N_("Profit in each year (thousands)"), (("profit_year_1", N_("year 1")), ("profit_year_2", N_("year 2")),
                                                   ("profit_year_3", N_("year 3"))), N_("profit (thousands)"), _K),),
        ("retention_12m", N_("12-month retention"), 1.0), "dashboard"),
    Explorable(
        "ch02", N_("What moves customers up the ladder"), "telecom",
        (Axis("staying_in_touch", N_("staying in touch"), _UNIT, 0.5),
         Axis("cross_sell", N_("cross-selling"), _UNIT, 0.25)),
        (Panel(N_("Customers on each rung after 36 months"), (("stage_first_time", N_("first-time")), ("stage_repeat", N_("repeat")),
                                                          ("stage_client", N_("client")), ("stage_advocate", N_("advocate"))),
               N_("customers")),),
        ("advocates", N_("advocates"), 1.0), "ladder_widget"),
    Explorable(
        "ch03", N_("Service by tier: who stays and who pays"), "telecom",
        (Axis("service_top", N_("service: Platinum and Gold"), evenly(0.2, 1.0, 0.2), 0.6,
              levers=("service_platinum", "service_gold")),
         Axis("service_bottom", N_("service: Iron and Lead"), _UNIT, 0.5, levers=("service_iron", "service_lead"))),
        (Panel(N_("Profit by tier over the run (thousands)"), tuple((f"profit_{t}", label) for t, label in _TIER_LABELS),
               N_("profit (thousands)"), _K, colours=_TIER_COLOURS),
         Panel(N_("Customers in each tier after 36 months"), tuple((f"tier_{t}", label) for t, label in _TIER_LABELS),
               "customers", colours=_TIER_COLOURS)),
        ("profit", N_("profit over 36 months (thousands)"), _K), "tier_service_widget"),
    Explorable(
        "ch04", N_("Competition and the satisfaction-retention link"), "telecom",
        (Axis("competitive_intensity", N_("competitive intensity"), evenly(0.05, 0.95, 0.15), 0.5),
         Axis("product_quality", N_("product quality"), evenly(0.3, 0.9, 0.3), 0.6)),
        (Panel(N_("Share still customers a year later, by satisfaction band"),
               tuple((f"retention_{key}", name) for key, (_low, _high, name) in zip(_BAND_KEYS, metrics.SATISFACTION_BANDS)),
               N_("retained after 12 months"), group_sizes=tuple(f"customers_{key}" for key in _BAND_KEYS)),),
        ("retention_12m", N_("12-month retention"), 1.0), "satisfaction_widget", bands=True, profit_axis="product_quality"),
    Explorable(
        "ch05", N_("Bonds, programmes and what keeps customers"), "retail_bank",
        (Axis("bonds", N_("social, customization and structural bonds"), _UNIT, 0.25,
              levers=("social_bond", "customization_bond", "structural_bond")),
         Axis("loyalty_programme", N_("loyalty programme"), tuple(LEVERS_BY_NAME["loyalty_programme"].choices), "none")),
        (Panel(N_("Why customers stay: share in each Jones & Sasser group"),
               tuple((f"share_{q}", q) for q in rules.QUADRANTS), N_("share of customers"),
               colours=tuple(plots.QUADRANT_COLOURS[q] for q in rules.QUADRANTS)),
         _CHURN),
        ("mean_switching_cost", N_("mean switching cost"), 1.0), "bonds_widget", strategy={"reward_rate": 0.03}),
    Explorable(
        "ch06", N_("Care, the feedback channel and why customers leave"), "telecom",
        (Axis("frontline_care", N_("frontline care"), _UNIT, 0.5),
         Axis("feedback_channel", N_("feedback channel"), _UNIT, 0.5)),
        (_CHURN,),
        ("retention_12m", N_("12-month retention"), 1.0), "care_widget", profit_axis="feedback_channel"),
    Explorable(
        "ch07", N_("Your firm against a balanced rival"), "telecom",
        (Axis("price_index", N_("your price index"), evenly(0.85, 1.15, 0.05), 1.0),
         Axis("frontline_care", N_("your frontline care"), _UNIT, 0.5)),
        (Panel(N_("Customers won from and lost to the rival over the run"), (("won_from_rivals", N_("won from the rival")),
                                                                        ("lost_to_rivals", N_("lost to the rival"))),
               N_("customers")),
         Panel(N_("Your profit in each year (thousands)"), (("profit_year_1", N_("year 1")), ("profit_year_2", N_("year 2")),
                                                        ("profit_year_3", N_("year 3"))), N_("profit (thousands)"), _K)),
        ("market_share", N_("your market share"), 1.0), "dashboard", rivals={"rival": "balanced"}),
    Explorable(
        "ch08", N_("No strategy is best everywhere"), "telecom",
        (Axis("competitive_intensity", N_("competitive intensity"), evenly(0.1, 0.9, 0.4), 0.5),
         Axis("preset", N_("strategy"), ("balanced", "neglect", "tiered", "bonding"), "balanced"),
         Axis("scenario", N_("market"), ("telecom", "retail_bank", "coffee_chain", "utility"), "telecom")),
        (_CHURN,),
        ("profit", N_("profit over 36 months (thousands)"), _K), "dashboard"),
)}


def explorable_spec(chapter: str) -> Explorable:
    """The declared explorable of a chapter ("ch01" ... "ch08"), or a clear error naming what is allowed."""
    if chapter not in EXPLORABLES:
        raise InvalidParameter("explorable", "chapter", chapter, "one of " + ", ".join(EXPLORABLES))
    return EXPLORABLES[chapter]


# ------------------------------------------------------------------------------------------- running the grid
def _market(spec: Explorable, point: dict, n_customers: int, seed: int) -> LoyaltyMarket:
    """The market for one grid point: fixed levers, then the point's levers, settings, preset and scenario."""
    levers = dict(spec.strategy)
    settings = dict(spec.settings)
    preset = point.get("preset", "balanced")
    for axis in spec.axes:
        if axis.name in ("preset", "scenario"):
            continue
        if axis.is_setting:
            settings[axis.name] = point[axis.name]
        else:
            levers.update({lever: point[axis.name] for lever in axis.targets()})
    strategy = Strategy.preset(preset).replace(**levers)
    scenario = point.get("scenario", spec.scenario)
    if spec.rivals:
        return LoyaltyMarket(scenario, firms={YOU: strategy, **spec.rivals}, n_customers=n_customers, seed=seed, **settings)
    return LoyaltyMarket(scenario=scenario, strategy=strategy, n_customers=n_customers, seed=seed, **settings)


def _measures(spec: Explorable, model: LoyaltyMarket) -> dict:
    """Run the market for the chapter's months and return every measure its charts may show."""
    measured = {}
    if spec.bands:
        model.run(spec.months - BAND_MONTHS)
        bands = metrics.retention_by_satisfaction(model, BAND_MONTHS)
        for row in bands.itertuples():
            measured[f"retention_{row.band.replace(' ', '_')}"] = row.retention
            measured[f"customers_{row.band.replace(' ', '_')}"] = row.customers
    else:
        model.run(spec.months)
    df = model.datacollector.get_model_vars_dataframe()
    last = df.iloc[-1]
    measured.update(metrics.outcomes(model, firm=YOU if spec.rivals else None))
    measured.update({f"stage_{s}": float(last[f"stage_{s}"]) for s in rules.STAGES})
    profit = df[f"profit[{YOU}]"] if spec.rivals else df["profit"]
    for year in range(spec.months // 12):
        in_year = (df["month"] > 12 * year) & (df["month"] <= 12 * (year + 1))
        measured[f"profit_year_{year + 1}"] = float(profit[in_year].sum())
    return measured


def _point_measures(spec: Explorable, point: dict, n_customers: int, seeds) -> dict:
    """The chart measures at one grid point, averaged over the seeds.

    A share whose group holds fewer than `metrics.MIN_GROUP_CUSTOMERS` customers over all the seeds (or none)
    stays None, as in ch04's figure (customers summed over the seeds, shares averaged).
    """
    runs = [_measures(spec, _market(spec, point, n_customers, seed)) for seed in seeds]
    averaged = {}
    for key in [key for panel in spec.panels for key, _label in panel.measures] + [key for _chart, key, *_rest in spec.line_charts()]:
        values = np.array([float(run[key]) for run in runs], dtype=float)
        averaged[key] = None if np.isnan(values).all() else float(np.nanmean(values))
    for panel in spec.panels:
        for (key, _label), size in zip(panel.measures, panel.group_sizes):
            customers = sum(int(run[size]) for run in runs)
            averaged[size] = customers
            if not metrics.large_enough(customers):
                averaged[key] = None
    return averaged


def _rounded(value, scale: float):
    if value is None:
        return None
    value = value / scale
    return round(value, 4) if abs(value) < 10 else round(value, 1)


def _rows(spec: Explorable, point: dict, measured: dict) -> list[dict]:
    """Long-format rows for one point: one per bar of every panel (with its group's size where the panel has
    one), one per line chart (the headline, profit)."""
    rows = []
    for index, panel in enumerate(spec.panels):
        sizes = panel.group_sizes or (None,) * len(panel.measures)
        for order, ((key, label), size) in enumerate(zip(panel.measures, sizes)):
            row = {**point, "panel": index, "order": order, "category": _(label),
                   "value": _rounded(measured[key], panel.scale)}
            if size is not None:
                row["customers"] = measured[size]
            rows.append(row)
    for chart, key, label, scale, _axis in spec.line_charts():
        rows.append({**point, "panel": chart, "order": 0, "category": label, "value": _rounded(measured[key], scale)})
    return rows


def compute_explorable(chapter: str, n_customers: int | None = None, seeds=None) -> dict:
    """Run the chapter's grid and return what the page needs: the rows, the axes, a Vega-Lite spec and a caption.

    Args:
        chapter: "ch01" ... "ch08" (see EXPLORABLES).
        n_customers, seeds: override the declared run size (the tests use smaller runs).
    """
    spec = explorable_spec(chapter)
    n_customers = spec.n_customers if n_customers is None else n_customers
    seeds = tuple(spec.seeds if seeds is None else seeds)
    rows = [row for point in spec.grid() for row in _rows(spec, point, _point_measures(spec, point, n_customers, seeds))]
    result = {
        "chapter": chapter, "title": _(spec.title), "scenario": spec.scenario,
        "axes": [{"name": a.name, "label": _(a.label), "values": list(a.values), "default": a.default} for a in spec.axes],
        "grid_points": len(spec.grid()), "seeds": list(seeds), "n_customers": n_customers, "months": spec.months,
        "rows": rows,
    }
    result["caption"] = caption(spec, result)
    result["vega_lite"] = vega_lite_spec(spec, rows)
    return result


def default_point_measures(chapter: str, n_customers: int | None = None, seeds=None) -> dict:
    """The measures at the chapter's default point only (what the static figure shows), averaged the same way."""
    spec = explorable_spec(chapter)
    return _point_measures(spec, spec.default_point(), spec.n_customers if n_customers is None else n_customers,
                           tuple(spec.seeds if seeds is None else seeds))


def caption(spec: Explorable, computed: dict) -> str:
    """What was precomputed, what is left out, and where to explore further (in the language in use)."""
    moves = " x ".join(_("{label} ({count} values)").format(label=_(a.label), count=len(a.values)) for a in spec.axes)
    market = (_("the market chosen") if any(a.name == "scenario" for a in spec.axes)
              else _("the {market} market").format(market=plots.market_label(spec.scenario)))
    gap = "" if get_language() == "zh_CN" else " "  # Chinese puts no space between sentences
    small = (gap + _("A band with fewer than {count} customers over the runs is not drawn (its share would be mostly "
                     "chance) and is marked instead.").format(count=metrics.MIN_GROUP_CUSTOMERS)
             if any(panel.group_sizes for panel in spec.panels) else "")
    seeds = computed["seeds"]
    return (_("Precomputed when the book was built: {points} grid points ({moves}), each run {runs} times (seeds "
              "{seeds}) with {customers} customers in {market} for {months} months, and averaged.").format(
                  points=computed["grid_points"], moves=moves, runs=len(seeds), seeds=", ".join(map(str, seeds)),
                  customers=format_number(computed["n_customers"]), market=market, months=computed["months"])
            + gap + _("Profit is the model's own record of revenue minus every cost, levers included.") + small + gap
            + _("Moving a control picks another precomputed point; nothing runs in your browser. To try any value of "
                "every lever, open this chapter as a notebook and run `{code}`, or use the practice page of your "
                "classroom server.").format(code=f"from simulations.widgets import {spec.widget}; {spec.widget}()"))


# --------------------------------------------------------------------------------------------- the chart
CHART_WIDTH = 250  # CSS px of each chart's plotting area; the page's loader narrows it to fit a phone
TITLE_CHARACTERS = 34  # about 250 px of 13 px type
HIDDEN_NOTE_TEMPLATE = N_("fewer than {count} customers: not drawn")
HIDDEN_NOTE = HIDDEN_NOTE_TEMPLATE.format(count=metrics.MIN_GROUP_CUSTOMERS)  # in English


def hidden_note() -> str:
    """The note where a bar too small to show would be, in the language in use."""
    return _(HIDDEN_NOTE_TEMPLATE).format(count=metrics.MIN_GROUP_CUSTOMERS)


#: How a select names its choices (the values stay the identifiers the rows are keyed on).
_CHOICE_LABELS = {"preset": plots.preset_label, "scenario": plots.market_label,
                  "loyalty_programme": plots.programme_label}


def _param(axis: Axis) -> dict:
    """A Vega-Lite parameter bound to an input: a slider over the grid's values, or a select."""
    name = f"{_(axis.label)} "
    if axis.is_select:
        bind = {"input": "select", "options": list(axis.values), "name": name}
        if get_language() != "en" and axis.name in _CHOICE_LABELS:  # English shows the values as they always did
            bind["labels"] = [_CHOICE_LABELS[axis.name](value) for value in axis.values]
    else:
        step = round(axis.values[1] - axis.values[0], 6) if len(axis.values) > 1 else 1
        bind = {"input": "range", "min": axis.values[0], "max": axis.values[-1], "step": step, "name": name}
    return {"name": f"p_{axis.name}", "value": axis.default, "bind": bind}


def _matches(axis: Axis) -> str:
    """A Vega expression true for rows at the chosen value of `axis` (numbers compared with a tolerance)."""
    if axis.is_select:
        return f"datum['{axis.name}'] === p_{axis.name}"
    return f"abs(datum['{axis.name}'] - p_{axis.name}) < 1e-6"


def _domain(rows, panel) -> list[float]:
    """A fixed value range for a chart across the whole grid, so that a bar's movement is a real change."""
    values = [r["value"] for r in rows if r["panel"] == panel and r["value"] is not None]
    low, high = min(values + [0.0]), max(values + [0.0])
    return [low, high if high > low else low + 1]


def _title(text: str) -> list[str]:
    """A chart title in lines short enough for the narrowest chart (a phone's), never cut off.

    A Chinese character is about twice as wide as a Latin letter, and Chinese has no spaces to break at."""
    if any("\u3000" <= character <= "\u9fff" or "\uff00" <= character <= "\uffef" for character in text):
        return textwrap.wrap(text, TITLE_CHARACTERS * 4 // 7, break_long_words=True)  # 19 of 13 px
    return textwrap.wrap(text, TITLE_CHARACTERS)


def _bars(spec: Explorable, index: int, panel: Panel, rows) -> dict:
    """Horizontal bars (labels stay level and readable in a phone's width), coloured as in the static figures;
    a group too small to show gets a note where its bar would be."""
    labels = [_(label) for _key, label in panel.measures]
    category = {"field": "category", "type": "nominal", "title": None, "sort": labels,
                "scale": {"domain": labels}, "axis": {"labelLimit": 160}}
    layers = [{"mark": {"type": "bar", "tooltip": True},
               "encoding": {"y": category,
                            "x": {"field": "value", "type": "quantitative", "title": _(panel.unit),
                                  "scale": {"domain": _domain(rows, index), "nice": True}},
                            "color": {"field": "category", "type": "nominal", "legend": None,
                                      "scale": {"domain": labels, "range": panel.bar_colours()}}}}]
    if panel.group_sizes:
        layers.append({"transform": [{"filter": "datum.value === null"}],
                       "mark": {"type": "text", "align": "left", "baseline": "middle", "dx": 4, "fontStyle": "italic",
                                "color": "#555555"},
                       "encoding": {"y": category, "x": {"value": 0}, "text": {"value": hidden_note()}}})
    return {
        "title": _title(_(panel.title)), "width": CHART_WIDTH, "height": {"step": 26},
        "transform": [{"filter": f"datum.panel === {index}"}] + [{"filter": _matches(a)} for a in spec.axes],
        "layer": layers,
    }


def _line(spec: Explorable, chart: str, label: str, axis: Axis, rows) -> dict:
    """A measure against one axis, at the chosen values of the others; the chosen point marked with its value."""
    others = [a for a in spec.axes if a is not axis]
    x = {"field": axis.name, "type": "ordinal" if axis.is_select else "quantitative", "title": _(axis.label)}
    if not axis.is_select:
        x["scale"] = {"domain": [axis.values[0], axis.values[-1]], "nice": False, "padding": 16}  # room for the label
    y = {"field": "value", "type": "quantitative", "title": None,  # the chart's title names it
         "scale": {"domain": _domain(rows, chart), "nice": True}}
    return {
        "title": _title(label), "width": CHART_WIDTH, "height": 200,
        "transform": [{"filter": f"datum.panel === '{chart}'"}] + [{"filter": _matches(a)} for a in others],
        "layer": [
            {"mark": {"type": "line", "point": True, "tooltip": True}, "encoding": {"x": x, "y": y}},
            {"transform": [{"filter": _matches(axis)}],
             "mark": {"type": "point", "size": 180, "filled": True, "color": "#d62728"}, "encoding": {"x": x, "y": y}},
            {"transform": [{"filter": _matches(axis)}],
             "mark": {"type": "text", "dy": -14, "fontWeight": "bold", "color": "#d62728"},
             "encoding": {"x": x, "y": y, "text": {"field": "value", "type": "quantitative", "format": ",.3~g"}}},
        ],
    }


#: d3-format locales of the languages whose numbers differ from English (Chinese writes them as English does).
NUMBER_LOCALES = {"it": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", "\u00a0€"]},
                  "pl": {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0zł"]}}


def vega_lite_spec(spec: Explorable, rows) -> dict:
    """The chapter's chart: a bar panel per Panel, the headline and profit, redrawn when a bound input moves.

    Two charts a row fit a desktop column; the page's loader (book/_static/loyalty_explorables.js) puts them in one
    column and narrows them on a phone, so the explorable never scrolls sideways.
    """
    charts = [_bars(spec, i, panel, rows) for i, panel in enumerate(spec.panels)]
    charts += [_line(spec, chart, label, axis, rows) for chart, _key, label, _scale, axis in spec.line_charts()]
    config = {"view": {"stroke": None}, "axis": {"labelFontSize": 12, "titleFontSize": 12},
              "title": {"fontSize": 13, "limit": 0}}
    if get_language() in NUMBER_LOCALES:  # the axes' and labels' numbers with the language's decimal sign
        config["locale"] = {"number": NUMBER_LOCALES[get_language()]}
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "description": _(spec.title),
        "data": {"values": rows},
        "params": [_param(a) for a in spec.axes],
        "concat": charts, "columns": 2,
        "resolve": {"scale": {"color": "independent"}},  # each panel colours its own bars
        "config": config,
    }


# -------------------------------------------------------------------------------------------- showing it
class ExplorableBlock:
    """The HTML block of the built book: a container the page's loader script fills (data and spec, no code)."""

    def __init__(self, computed: dict):
        self.computed = computed

    def _heading(self) -> str:
        return _("Explore: {title}").format(title=self.computed["title"])

    def __repr__(self):  # the text a downloaded notebook keeps beside the HTML
        return f"{self._heading()}. {self.computed['caption']}"

    def _repr_html_(self) -> str:
        spec = json.dumps(self.computed["vega_lite"], separators=(",", ":"), allow_nan=False)
        spec = spec.replace("</", "<\\/")  # the JSON sits inside a <script> element
        return (f'<div class="loyalty-explorable" data-chapter="{self.computed["chapter"]}">'
                f'<p class="loyalty-explorable-title"><strong>{html.escape(self._heading())}</strong></p>'
                f'<div class="loyalty-explorable-view" style="overflow-x:auto">'
                f'</div><script type="application/json" class="loyalty-explorable-spec">{spec}</script>'
                f'<p class="loyalty-explorable-caption">{_caption_html(self.computed["caption"])}</p></div>')


def _caption_html(text: str) -> str:
    """The caption with its `code` spans as <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def static_figure(chapter: str, n_customers: int | None = None, seeds=None):
    """A matplotlib figure of the chapter's default point: the bars of each panel, in the static figures' colours,
    and the headline and profit in the title."""
    from matplotlib.figure import Figure

    spec = explorable_spec(chapter)
    measured = default_point_measures(chapter, n_customers, seeds)
    plots.use_language_fonts()
    fig = Figure(figsize=(4.2 * len(spec.panels) + 0.6, 3.8), layout="constrained")
    for ax, panel in zip(fig.subplots(1, len(spec.panels), squeeze=False)[0], spec.panels):
        labels = [_(label) for _key, label in panel.measures]
        values = [np.nan if measured[key] is None else measured[key] / panel.scale for key, _label in panel.measures]
        ax.barh(labels, values, color=panel.bar_colours())
        ax.invert_yaxis()  # first measure on top, as in the page
        ax.set_title(_(panel.title), fontsize=10)
        ax.set_xlabel(_(panel.unit))
    point = ", ".join(f"{_(a.label)} {_default_shown(a)}" for a in spec.axes)
    shown = "; ".join(f"{label}: {_three_figures(measured[key] / scale)}"
                      for _chart, key, label, scale, _axis in spec.line_charts())
    fig.suptitle(f"{_(spec.title)}\n({point})\n{shown}", fontsize=10)
    return fig


def _default_shown(axis: Axis) -> str:
    """An axis' default as the static figure's title shows it: a choice by its label, a number in the language's way."""
    if axis.is_select:
        return _CHOICE_LABELS[axis.name](axis.default) if axis.name in _CHOICE_LABELS else str(axis.default)
    return format_number(axis.default, _decimals(axis.default)) if get_language() != "en" else str(axis.default)


def _decimals(value: float) -> int:
    text = f"{value:g}"
    return len(text.split(".")[1]) if "." in text else 0


def _three_figures(value: float) -> str:
    """A value to three significant figures, grouped and with the decimal sign of the language in use."""
    if get_language() == "en" or not np.isfinite(value):
        return f"{value:,.3g}"
    rounded = float(f"{value:.3g}")
    return format_number(rounded, _decimals(rounded))


class StaticExplorable:
    """What a notebook shows instead of the in-page chart: the default point as a picture, and how to go further."""

    def __init__(self, chapter: str, n_customers: int | None = None, seeds=None):
        self.chapter = chapter
        spec = explorable_spec(chapter)
        self.figure = static_figure(chapter, n_customers, seeds)
        self.note = _("The book's page lets you move {levers} over a precomputed grid. Here, move every lever live: "
                      "{code}").format(levers=", ".join(_(a.label) for a in spec.axes),
                                       code=f"from simulations.widgets import {spec.widget}; {spec.widget}()")

    def _repr_mimebundle_(self, include=None, exclude=None):
        import base64
        import io

        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=110)
        return {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": self.note}

    def __repr__(self):
        return self.note


def show_explorable(chapter: str):
    """What a chapter's explorable cell displays: the in-page chart in the built book, a static figure elsewhere."""
    if os.environ.get(MODE_VARIABLE) == INTERACTIVE:
        return ExplorableBlock(compute_explorable(chapter))
    return StaticExplorable(chapter)


def data_size(computed: dict) -> int:
    """Bytes of the chart's JSON (data and spec) as it is written into the page."""
    return len(json.dumps(computed["vega_lite"], separators=(",", ":"), allow_nan=False).encode("utf-8"))


__all__ = ["EXPLORABLES", "Axis", "Panel", "Explorable", "compute_explorable", "explorable_spec", "show_explorable",
           "static_figure", "default_point_measures", "data_size", "MODE_VARIABLE", "INTERACTIVE"]
