"""Figures of the simulated market, shared by the chapters, the labs, the dashboard and the command line.

House style (QuantEcon's): each function draws on an `ax` it is given (or makes one), no title inside
the figure (the caption says it), lower-case axis labels, and returns the axes.

Languages (issue 18): every label a figure shows is English in the source and passes through `_()` (simulations.i18n)
when it is drawn, so `set_language` or LOYALTY_LAB_LANGUAGE chooses the language of the next figure; data keys
(tier, cause, stage names in the columns) stay English. `use_language_fonts()` gives Chinese figures a CJK font.

Sizes for reading (issue 12): figures are drawn at `FIGURE_DPI` (150) and at most `MAX_FIGURE_WIDTH` inches wide.
The book shows a figure at 96 CSS pixels per figure inch (book/_ext), shrunk to the text column when wider, so
an 8-inch figure fills a desktop column with 10-point tick labels about 13 px high, and the PNG has at least
1.5 pixels for every pixel shown (sharp on a high-density screen). Importing this module applies `BOOK_STYLE`
to matplotlib, so every figure the course draws (book, notebooks, command line) gets the same readable sizes.
"""

from __future__ import annotations

import base64
import inspect
import io
import pickle
import struct
import textwrap
import warnings
import zlib

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from . import rules
from .i18n import N_, _, get_language, pgettext
from .metrics import bands_to_show, whale_curve

TIER_COLOURS = {"platinum": "#7f7f7f", "gold": "#d4a017", "iron": "#4a6fa5", "lead": "#8c564b"}
CAUSE_COLOURS = dict(zip(rules.CHURN_CAUSES, ("#444444", "#9467bd", "#17becf", "#d62728", "#ff7f0e", "#1f77b4")))
#: Each churn cause as the figures name it (English; `cause_label` gives it in the language in use).
CAUSE_LABELS = {"death": N_("death"), "moved": N_("moved away"), "other_relationships": N_("needs ended / other ties"),
                "competitor": N_("competitor's lure"), "product": N_("product dissatisfaction"),
                "indifference": N_("indifference")}
QUADRANT_COLOURS = dict(zip(rules.QUADRANTS, ("#2ca02c", "#bcbd22", "#ff7f0e", "#d62728")))
BAR_COLOUR = "#4a6fa5"  # bars that name no tier, cause or quadrant (ladder rungs, years, bands)

TIER_LABELS = {"platinum": N_("Platinum"), "gold": N_("Gold"), "iron": N_("Iron"), "lead": N_("Lead")}
STAGE_LABELS = {"suspect": N_("suspect"), "prospect": N_("prospect"), "disqualified": N_("disqualified"),
                "first_time": N_("first-time"), "repeat": N_("repeat"), "client": N_("client"),
                "advocate": N_("advocate"), "lost": N_("lost")}
QUADRANT_LABELS = {"apostle": N_("apostle"), "mercenary": N_("mercenary"), "hostage": N_("hostage"),
                   "defector": N_("defector")}
BAND_LABELS = {"very dissatisfied": N_("very dissatisfied"), "dissatisfied": N_("dissatisfied"),
               "neutral": N_("neutral"), "satisfied": N_("satisfied"), "completely satisfied": N_("completely satisfied")}
PRESET_LABELS = {"balanced": N_("balanced"), "neglect": N_("neglect"), "tiered": N_("tiered"), "bonding": N_("bonding")}
MARKET_LABELS = {"telecom": N_("telecom"), "retail_bank": N_("retail bank"), "coffee_chain": N_("coffee chain"),
                 "utility": N_("utility")}
PROGRAMME_LABELS = {"none": N_("no programme"), "standalone_points": N_("standalone points"),
                    "coalition_points": N_("coalition points"), "cobranded_card": N_("co-branded card"),
                    "membership_club": N_("membership club")}
# Dick & Basu's types and the course notes' seven types share English words ("latent") with other meanings in other
# languages: each set has its own message context.
DICK_BASU_CONTEXT, MOTIVE_CONTEXT = "dick-basu", "loyalty-motive"
DICK_BASU_LABELS = {"true": "true", "latent": "latent", "spurious": "spurious", "none": "none"}
MOTIVE_LABELS = {"no_choice": "no-choice", "false": "false", "latent": "latent", "benefit": "benefit",
                 "incentive": "incentive", "brand": "brand", "super_value": "super-value"}


def tier_label(tier: str) -> str:
    """"Platinum" for "platinum", in the language in use."""
    return _(TIER_LABELS.get(tier, tier))


def cause_label(cause: str) -> str:
    return _(CAUSE_LABELS.get(cause, cause))


def stage_label(stage: str) -> str:
    """A rung of the loyalty ladder ("first-time" for "first_time"), in the language in use."""
    return _(STAGE_LABELS.get(stage, stage.replace("_", "-")))


def quadrant_label(quadrant: str) -> str:
    return _(QUADRANT_LABELS.get(quadrant, quadrant))


def band_label(band: str) -> str:
    """A satisfaction band of `metrics.SATISFACTION_BANDS`, in the language in use."""
    return _(BAND_LABELS.get(band, band))  # a band of other cut-offs keeps its name


def preset_label(preset: str) -> str:
    """A strategy preset's name as a legend shows it (the preset's identifier stays English in the code)."""
    return _(PRESET_LABELS[preset]) if preset in PRESET_LABELS else preset


def market_label(scenario: str) -> str:
    """A scenario's name as a legend shows it ("retail bank" for "retail_bank")."""
    return _(MARKET_LABELS[scenario]) if scenario in MARKET_LABELS else scenario.replace("_", " ")


def programme_label(kind: str) -> str:
    """A kind of loyalty programme (parameters.PROGRAMME_KINDS) as a reader reads it."""
    return _(PROGRAMME_LABELS[kind]) if kind in PROGRAMME_LABELS else kind.replace("_", " ")


def dick_basu_label(kind: str) -> str:
    return pgettext(DICK_BASU_CONTEXT, DICK_BASU_LABELS[kind])


def motive_label(motive: str) -> str:
    return pgettext(MOTIVE_CONTEXT, MOTIVE_LABELS[motive])


#: The font families that draw each language's script; English, Italian and Polish need nothing beyond the default.
LANGUAGE_FONTS = {"zh_CN": ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK", "WenQuanYi Zen Hei"]}
_DEFAULT_FONTS = list(plt.rcParams["font.sans-serif"])


def _installed_families() -> set[str]:
    from matplotlib import font_manager

    return {entry.name for entry in font_manager.fontManager.ttflist}


def _add_system_fonts(font_manager) -> bool:
    """Add the system's CJK fonts to matplotlib's font list (cached in a JSON file written before they were installed)
    and save the list, so later processes find them at once. True when any was added."""
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    added = [path for path in font_manager.findSystemFonts() if "CJK" in path and path not in known]
    for path in added:
        font_manager.fontManager.addfont(path)
    if added:
        try:
            from pathlib import Path

            from matplotlib import get_cachedir
            font_manager.json_dump(font_manager.fontManager,
                                   Path(get_cachedir()) / f"fontlist-v{font_manager.FontManager.__version__}.json")
        except OSError:  # a read-only cache: the fonts are still added for this process
            pass
    return bool(added)


def use_language_fonts(language: str | None = None) -> list[str]:
    """Put the fonts of `language` (the language in use by default) first in matplotlib's sans-serif list.

    A Chinese label drawn in DejaVu Sans is a row of boxes and a "Glyph missing" warning (an error in the book's -W
    build), so a Chinese figure must use a CJK font; the Latin letters and digits of that font are fine too. Called
    by every figure function of this module, so a change of language between figures takes effect. Returns the
    families now listed first.
    """
    from matplotlib import font_manager

    wanted = LANGUAGE_FONTS.get(language or get_language(), [])
    first = [family for family in wanted if family in _installed_families()]
    if wanted and not first and _add_system_fonts(font_manager):  # matplotlib's font list predates the CJK font
        first = [family for family in wanted if family in _installed_families()]
    families = first + [family for family in _DEFAULT_FONTS if family not in first]
    if list(plt.rcParams["font.sans-serif"]) != families:
        plt.rcParams["font.sans-serif"] = families
    if plt.rcParams["font.family"] != ["sans-serif"]:
        plt.rcParams["font.family"] = ["sans-serif"]
    return first


FIGURE_DPI = 150
MAX_FIGURE_WIDTH = 8.0                 # inches: the book's text column at 96 CSS px per inch
PANEL_HEIGHT = 3.4                     # inches, one row of panels
DASHBOARD_SIZE = (MAX_FIGURE_WIDTH, 9.0)  # six panels in three rows of two
BOOK_STYLE = {
    "figure.dpi": FIGURE_DPI,          # the notebook's inline PNGs (IPython saves at the figure's dpi)
    "savefig.dpi": FIGURE_DPI,
    "font.size": 10.5,
    "axes.labelsize": 10.5,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
}
plt.rcParams.update(BOOK_STYLE)
use_language_fonts()


def panels_figsize(n_panels: int, height: float = PANEL_HEIGHT) -> tuple[float, float]:
    """The size of a row of `n_panels` panels that still fits the text column."""
    return (min(MAX_FIGURE_WIDTH, 4.2 * n_panels), height)


def _ax(ax):
    use_language_fonts()  # the language may have changed since the last figure
    if ax is None:
        _fig, ax = plt.subplots(figsize=(6.4, 3.8))
    return ax


def plot_customers(df, ax=None, label=None):
    """Active customers month by month."""
    ax = _ax(ax)
    ax.plot(df["month"], df["active"], label=label)
    ax.set_xlabel(_("month"))
    ax.set_ylabel(_("active customers"))
    ax.set_ylim(bottom=0)
    return ax


def _stack_over_time(df, names, prefix, colours, labels, ylabel, ax):
    """Stacked areas of the columns `prefix_name` month by month: the shape of every 'who is where' panel.

    The areas fill the axes, so the legend sits outside, to the right, where it hides nothing.
    """
    ax = _ax(ax)
    ax.stackplot(df["month"], [df[f"{prefix}_{n}"] for n in names], labels=labels,
                 colors=[colours[n] for n in names], alpha=0.85)
    ax.set_xlabel(_("month"))
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    return ax


def plot_churn_by_cause(df, ax=None):
    """Customers lost so far, stacked by cause (cumulative)."""
    return _stack_over_time(df, rules.CHURN_CAUSES, "churned", CAUSE_COLOURS, [cause_label(c) for c in rules.CHURN_CAUSES],
                            _("customers lost (cumulative)"), ax)


def plot_churn_shares(churned: dict, ax=None):
    """Share of all customers lost, by cause, as horizontal bars (largest first)."""
    ax = _ax(ax)
    total = max(sum(churned.values()), 1)
    causes = sorted(churned, key=churned.get)
    ax.barh([cause_label(c) for c in causes], [100 * churned[c] / total for c in causes],
            color=[CAUSE_COLOURS[c] for c in causes])
    ax.set_xlabel(_("share of customers lost (%)"))
    return ax


def plot_profit_by_tier(df, ax=None):
    """Total profit earned from each tier over the run (bars; Lead is usually below zero)."""
    ax = _ax(ax)
    totals = [df[f"profit_{t}"].sum() for t in rules.TIERS]
    ax.bar([tier_label(t) for t in rules.TIERS], totals, color=[TIER_COLOURS[t] for t in rules.TIERS])
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(_("profit over the run"))
    return ax


def plot_tiers(df, ax=None):
    """Customers in each tier month by month (stacked)."""
    return _stack_over_time(df, rules.TIERS, "tier", TIER_COLOURS, [tier_label(t) for t in rules.TIERS], _("customers"),
                            ax)


def plot_ladder(df, ax=None, month=-1):
    """People on each rung of the loyalty ladder in one month (bars, suspects first)."""
    ax = _ax(ax)
    row = df.iloc[month]
    stages = [s for s in rules.STAGES if s != "lost"]
    ax.bar([stage_label(s) for s in stages], [row[f"stage_{s}"] for s in stages], color=BAR_COLOUR)
    ax.set_ylabel(_("people"))
    plt.setp(ax.get_xticklabels(), rotation=35, ha="right", rotation_mode="anchor")
    return ax


def plot_satisfaction_retention(bands, ax=None, label=None, marker="o"):
    """Retention after a year against satisfaction band at the start (Jones & Sasser's picture)."""
    ax = _ax(ax)
    shown = bands_to_show(bands)
    ax.plot([band_label(band) for band in shown["band"]], shown["retention"], marker=marker, label=label)
    ax.set_xlabel(_("satisfaction at the start"))
    ax.set_ylabel(_("still a customer a year later"))
    ax.set_ylim(0, 1.02)
    ax.tick_params(axis="x", rotation=20)
    return ax


def plot_whale_curve(monthly_profit, ax=None, label=None):
    """Cumulative share of profit against share of customers, most profitable first."""
    ax = _ax(ax)
    curve = whale_curve(monthly_profit)
    ax.plot(100 * curve["share_of_customers"], 100 * curve["share_of_profit"], label=label)
    ax.axhline(100, color="grey", lw=0.8, ls="--")
    ax.set_xlabel(_("customers, most profitable first (%)"))
    ax.set_ylabel(_("cumulative share of profit (%)"))
    return ax


def plot_quadrants(df, ax=None):
    """Jones & Sasser quadrants over time: apostles, mercenaries, hostages, defectors (stacked)."""
    return _stack_over_time(df, rules.QUADRANTS, "quadrant", QUADRANT_COLOURS,
                            [quadrant_label(q) for q in rules.QUADRANTS], _("customers"), ax)


def plot_profit(df, ax=None, label=None, cumulative=True):
    """Profit over time, cumulative by default."""
    ax = _ax(ax)
    ax.plot(df["month"], df["profit"].cumsum() if cumulative else df["profit"], label=label)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(_("month"))
    ax.set_ylabel(_("cumulative profit") if cumulative else _("monthly profit"))
    return ax


def dashboard_figure(df, bands=None, fig=None):
    """The six panels of the notebook dashboard and the command line's run report, in three rows of two.

    Two panels a row keep the labels readable at the width of the book's column (a row of three needed 13 inches).
    """
    use_language_fonts()
    if fig is None:
        fig = plt.figure(figsize=DASHBOARD_SIZE)
    fig.set_layout_engine("constrained")  # makes room for the outside legends and the rotated labels
    axes = fig.subplots(3, 2)
    plot_customers(df, axes[0, 0])
    plot_churn_by_cause(df, axes[0, 1])
    plot_profit_by_tier(df, axes[1, 0])
    plot_ladder(df, axes[1, 1])
    if bands is not None:
        plot_satisfaction_retention(bands, axes[2, 0])
    else:
        axes[2, 0].plot(df["month"], df["mean_satisfaction"])
        axes[2, 0].set_xlabel(_("month"))
        axes[2, 0].set_ylabel(_("mean satisfaction"))
    plot_quadrants(df, axes[2, 1])
    for ax in (axes[1, 0], axes[2, 0]):  # category names ("Platinum", "very dissatisfied") overlap at half width
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
    return fig


def _counts_in_month(df, names, prefix, ax, month, label, offset, width, name_label):
    """Bars of the columns `prefix_name` in one month; `offset` and `width` let several runs share one axes."""
    ax = _ax(ax)
    row = df.iloc[month]
    positions = np.arange(len(names))
    ax.bar(positions + offset, [row[f"{prefix}_{n}"] for n in names], width=width, label=label)
    ax.set_xticks(positions)
    ax.set_xticklabels([name_label(n) for n in names], rotation=30 if len(names) > 4 else 0)
    ax.set_ylabel(_("customers"))
    return ax


def plot_loyalty_types(df, ax=None, month=-1, label=None, offset=0.0, width=0.8):
    """Dick & Basu's four loyalty types (true, latent, spurious, none) in one month (bars)."""
    return _counts_in_month(df, rules.DICK_BASU_TYPES, "loyalty", ax, month, label, offset, width, dick_basu_label)


def plot_loyalty_motives(df, ax=None, month=-1, label=None, offset=0.0, width=0.8):
    """The seven loyalty types of the course notes (what holds each customer) in one month (bars)."""
    return _counts_in_month(df, rules.LOYALTY_MOTIVES, "motive", ax, month, label, offset, width, motive_label)


def plot_satisfaction_loyalty(table, ax=None, size=6):
    """Each customer as a dot: satisfaction against the chance of staying a year, coloured by Jones & Sasser quadrant.

    `table` is `model.customer_table()`. The dashed lines are the quadrant cut-offs of
    `rules.jones_sasser_quadrant`, read from its defaults so the picture and the rule cannot disagree.
    """
    ax = _ax(ax)
    defaults = inspect.signature(rules.jones_sasser_quadrant).parameters
    for quadrant in rules.QUADRANTS:
        shown = table[table["quadrant"] == quadrant]
        ax.scatter(shown["satisfaction"], shown["stay_12m"], s=size, alpha=0.5, color=QUADRANT_COLOURS[quadrant],
                   label=quadrant_label(quadrant), linewidths=0)
    ax.axvline(defaults["satisfied"].default, color="grey", lw=0.8, ls="--")
    ax.axhline(defaults["loyal"].default, color="grey", lw=0.8, ls="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(_("satisfaction"))
    ax.set_ylabel(_("chance of staying a year"))
    return ax


# ------------------------------------------------------------------------------------------------ phones
# A phone's text column is about 358 CSS px (a 390 px screen). A figure drawn for the desktop column, shrunk to it,
# shows its 10-point labels 6-8 px high, so the book also carries each wide figure in a phone layout: the same
# panels in one column, PHONE_FIGURE_WIDTH wide, shown at 96 CSS px per inch (labels at their nominal size). The
# phone layout travels inside the figure's PNG, as a text chunk, so it survives the build's execution cache;
# book/_ext/loyalty_lab_html.py takes it out and puts both images in the page (CSS shows one).
PHONE_FIGURE_WIDTH = 3.7     # inches: 355 CSS px
PHONE_WIDEST_AS_IS = 4.2     # inches: a narrower figure, shrunk to a 358 px column, keeps >= 85 CSS px an inch
PHONE_PANEL_HEIGHT = (2.6, 3.2)  # inches, the smallest and largest height of a panel in the phone layout
PHONE_LEGEND_LABEL_CHARACTERS = 15  # longer labels go one to a line: two columns of them would not fit
PHONE_LEGEND_SHARE = 0.45  # a legend inside a panel, wider than this share of it, moves below the panel
PHONE_TITLE_CHARACTERS = 44  # a line of a figure's title at 10.5 points in PHONE_FIGURE_WIDTH
PHONE_LAYOUT_KEY = b"loyalty-lab-phone-layout"  # the PNG text chunk's keyword
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _clone(fig):
    """An independent copy of a figure (pickled and back), never shown by pyplot."""
    clone = pickle.loads(pickle.dumps(fig))
    if clone.canvas.manager is not None:  # a pyplot figure comes back registered with pyplot: it must not be shown
        plt.close(clone)
    return clone


def _panels_by_position(fig) -> list[list] | None:
    """The figure's axes grouped by their place in its one grid of subplots, in reading order (row by row).

    None when the figure is not a plain grid (subfigures, several grids, axes placed by hand): its phone layout
    would be a guess.
    """
    if fig.subfigs:
        return None
    places, grids = {}, set()
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if spec is None:
            if getattr(ax, "_colorbar", None) is not None or ax.get_label() == "<colorbar>":
                continue  # a colorbar follows its parent axes
            return None
        grids.add(id(spec.get_gridspec()))
        places.setdefault((spec.rowspan.start, spec.colspan.start), []).append(ax)
    if len(grids) != 1:
        return None
    return [places[key] for key in sorted(places)]


def _legend_below(ax) -> float:
    """Move a legend that sits outside the axes, to the right, below them: a phone has no width to spare.

    Returns the height (inches) the moved legend needs.
    """
    legend = ax.get_legend()
    if legend is None:
        return 0.0
    anchor = legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    if anchor.x0 < 0.99:  # inside the axes: it stays where its author put it
        return 0.0
    handles, labels = legend.legend_handles, [text.get_text() for text in legend.get_texts()]
    columns = 2 if max(map(len, labels), default=0) <= PHONE_LEGEND_LABEL_CHARACTERS else 1
    moved = ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncols=columns, frameon=False,
                      fontsize="small", title=legend.get_title().get_text() or None)
    moved.below_panel = True  # placed under the axis' labels once they are drawn (_tuck_legends_below)
    return 0.3 + 0.2 * -(-len(labels) // columns)


def _tuck_legends_below(fig, panels) -> None:
    """Put each legend moved below its panel just under that panel's tick labels and axis label, however tall."""
    for _attempt in range(2):  # the layout settles after the legends move
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for axes in panels:
            for ax in axes:
                legend = ax.get_legend()
                if legend is None or not getattr(legend, "below_panel", False):
                    continue
                bottom = ax.xaxis.get_tightbbox(renderer).y0 if ax.xaxis.get_visible() else ax.bbox.y0
                top = ax.transAxes.inverted().transform((0, bottom - 4))[1]
                legend.set_bbox_to_anchor((0.5, top), transform=ax.transAxes)


def phone_layout(fig):
    """A copy of `fig` with its panels in one column, PHONE_FIGURE_WIDTH inches wide; None when `fig` reads on a
    phone as it is, or is not a plain grid of panels.

    Shared axes keep their tick labels on every panel (in one column each panel needs its own), and legends
    outside a panel move below it.
    """
    width, height = fig.get_size_inches()
    if width <= PHONE_WIDEST_AS_IS:
        return None
    try:
        clone = _clone(fig)
    except Exception:  # something in the figure cannot be copied (a lambda formatter, say)
        return None
    panels = _panels_by_position(clone)
    if not panels:
        return None
    rows = panels[0][0].get_subplotspec().get_gridspec().nrows
    panel_height = min(max(height / rows, PHONE_PANEL_HEIGHT[0]), PHONE_PANEL_HEIGHT[1])
    column = clone.add_gridspec(len(panels), 1)
    legends = 0.0
    for index, axes in enumerate(panels):
        for ax in axes:
            ax.set_subplotspec(column[index, 0])
            if ax.yaxis.get_label_position() == "left":
                ax.yaxis.set_tick_params(which="both", labelleft=True)
            if ax.xaxis.get_label_position() == "bottom":
                ax.xaxis.set_tick_params(which="both", labelbottom=True)
            legends += _legend_below(ax)
    if clone._suptitle is not None:  # a title over the panels (a projected chart's) in lines the phone's width holds
        clone._suptitle.set_text("\n".join(textwrap.wrap(clone._suptitle.get_text(), PHONE_TITLE_CHARACTERS)))
    clone.set_layout_engine("constrained")
    clone.set_size_inches(PHONE_FIGURE_WIDTH, panel_height * len(panels) + legends)
    FigureCanvasAgg(clone)  # measure the text as it will be drawn
    with warnings.catch_warnings():  # a draw to measure, before legends below a panel have their room: the layout
        warnings.filterwarnings("ignore", "constrained_layout not applied")  # may not fit yet; the saved one does
        clone.canvas.draw()
    for axes in panels:
        for ax in axes:
            legends += _wide_legend_below(ax)
            _untangle_tick_labels(ax)
            _wrap_wide_axis_label(ax)
    clone.set_size_inches(PHONE_FIGURE_WIDTH, panel_height * len(panels) + legends)
    _tuck_legends_below(clone, panels)
    return clone


def _wide_legend_below(ax) -> float:
    """A legend inside a panel that takes more than PHONE_LEGEND_SHARE of its width hides the data on a phone:
    it moves below the panel (returns the height it needs there)."""
    legend = ax.get_legend()
    if legend is None or legend.get_window_extent().width <= PHONE_LEGEND_SHARE * ax.get_window_extent().width:
        return 0.0
    legend.set_bbox_to_anchor((1.0, 1.0), transform=ax.transAxes)  # mark it as outside, then move it below
    return _legend_below(ax)


def _wrap_wide_axis_label(ax) -> None:
    """An x-axis label wider than its panel (long category names beside a narrow panel) would stick out of the
    phone's column and shrink the whole figure: it goes on as many lines as the panel's width needs."""
    label = ax.xaxis.label
    text, width = label.get_text(), ax.get_window_extent().width
    if not text or "\n" in text or label.get_window_extent().width <= width:
        return
    characters = max(12, int(len(text) * width / label.get_window_extent().width))
    label.set_text("\n".join(textwrap.wrap(text, characters)))


def _tick_labels_collide(ax) -> bool:
    """True when neighbouring x tick labels overlap: side by side when level, along their slant when rotated."""
    labels = [label for label in ax.get_xticklabels() if label.get_visible() and label.get_text()]
    if len(labels) < 2:
        return False
    angle = np.radians(labels[0].get_rotation() % 180)
    if np.sin(angle) < 0.05:
        boxes = sorted((label.get_window_extent() for label in labels), key=lambda box: box.x0)
        return any(left.x1 > right.x0 + 1 for left, right in zip(boxes, boxes[1:]))
    anchors = sorted(label.get_transform().transform(label.get_position())[0] for label in labels)
    height = labels[0].get_fontsize() * ax.figure.dpi / 72
    return min(np.diff(anchors)) * np.sin(angle) < 1.15 * height


def _untangle_tick_labels(ax) -> None:
    """Category names under a narrower panel can run into each other: slant them until they do not.

    Slanted names end at their tick (right-aligned), so that neighbours stay parallel and apart.
    """
    for label in ax.get_xticklabels():
        if 0 < label.get_rotation() % 180 < 90:
            label.set(ha="right", va="top", rotation_mode="anchor")
    for angle in (45, 90):
        if not _tick_labels_collide(ax):
            return
        for label in ax.get_xticklabels():
            label.set(rotation=angle, ha="right", va="top" if angle < 90 else "center", rotation_mode="anchor")
        ax.figure.canvas.draw()


PHONE_STACKED_KEY = "loyalty-lab-stacked-panels"  # a phone PNG's text chunk: panels that stood side by side


def side_by_side(fig) -> int:
    """How many panels of `fig` stand side by side (1 for one panel, or panels in one column)."""
    specs = [ax.get_subplotspec() for ax in fig.axes]
    return max((spec.get_gridspec().ncols for spec in specs if spec is not None), default=1)


def phone_png(fig, dpi: int = FIGURE_DPI) -> bytes | None:
    """The PNG of `fig`'s phone layout (see `phone_layout`), or None when it needs none. When the layout put panels
    that stood side by side one below the other, the PNG says so (PHONE_STACKED_KEY), so that the page can tell a
    reader whose caption says "left" and "right"."""
    phone = phone_layout(fig)
    if phone is None:
        return None
    buffer = io.BytesIO()
    columns = side_by_side(fig)
    phone.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight",  # a long axis label can outgrow the panel
                  metadata={PHONE_STACKED_KEY: str(columns)} if columns > 1 else {})
    return buffer.getvalue()


def _chunks(png: bytes):
    """(type, data, start, end) of every chunk of a PNG file."""
    if not png.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    position = len(_PNG_SIGNATURE)
    while position < len(png):
        (length,) = struct.unpack(">I", png[position:position + 4])
        kind = png[position + 4:position + 8]
        yield kind, png[position + 8:position + 8 + length], position, position + 12 + length
        position += 12 + length


def with_phone_layout(png: bytes, phone: bytes | None) -> bytes:
    """`png` carrying `phone` (a PNG) in a text chunk before its end; `png` itself when there is no phone layout."""
    if phone is None:
        return png
    data = PHONE_LAYOUT_KEY + b"\0" + base64.b64encode(phone)
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data) & 0xFFFFFFFF)
    end = next(start for kind, _data, start, _end in _chunks(png) if kind == b"IEND")
    return png[:end] + chunk + png[end:]


def split_phone_layout(png: bytes) -> tuple[bytes, bytes | None]:
    """The figure's own PNG without the phone layout's chunk, and the phone layout's PNG (None without one)."""
    for kind, data, start, end in _chunks(png):
        if kind == b"tEXt" and data.startswith(PHONE_LAYOUT_KEY + b"\0"):
            return png[:start] + png[end:], base64.b64decode(data[len(PHONE_LAYOUT_KEY) + 1:])
    return png, None


def book_png(fig, png: bytes | None = None, dpi: int = FIGURE_DPI) -> bytes:
    """The PNG the book shows for `fig` (`png`, or the figure saved at `dpi`), with its phone layout inside."""
    if png is None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        png = buffer.getvalue()
    return with_phone_layout(png, phone_png(fig, dpi))


def show_phone_layouts(shell=None) -> bool:
    """Make the PNG that IPython shows for every matplotlib figure carry the figure's phone layout.

    The book's build runs this in each kernel that executes a page (book/_ext/loyalty_lab_html.py writes it
    into the kernels' IPython start-up files): it wraps the PNG formatter of the inline backend, so a page's
    figures need no change. Returns False outside IPython.
    """
    from IPython import get_ipython
    from matplotlib.figure import Figure

    shell = shell or get_ipython()
    if shell is None:
        return False
    plt.figure().clear()  # the first figure makes the inline backend register its own formatter, which we wrap
    plt.close("all")
    formatter = shell.display_formatter.formatters["image/png"]
    try:
        drawn = formatter.lookup_by_type(Figure)
    except KeyError:  # no inline backend (a plain IPython shell): the figure's own PNG, cropped as the backend does
        def drawn(fig):
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", bbox_inches="tight")
            return buffer.getvalue()

    def png_with_phone_layout(fig):
        data = drawn(fig)
        if not data:
            return data
        encoded = isinstance(data, str)  # the inline backend hands IPython base64 text
        png = with_phone_layout(base64.b64decode(data) if encoded else data, phone_png(fig))
        return base64.b64encode(png).decode("ascii") if encoded else png

    formatter.for_type(Figure, png_with_phone_layout)
    _PHONE_LAYOUTS["shown"] = True
    return True


_PHONE_LAYOUTS = {"shown": False}


def save_png(fig, path, dpi: int = FIGURE_DPI, **options):
    """`fig.savefig(path)` as a PNG; in the book's build (see `show_phone_layouts`) with its phone layout inside, so
    that a chart the command line writes and a page then shows (the instructor guide's) fits a phone too."""
    from pathlib import Path

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, **options)
    png = buffer.getvalue()
    if phone_layouts_shown():
        png = with_phone_layout(png, phone_png(fig, dpi))
    Path(path).write_bytes(png)
    return Path(path)


def phone_layouts_shown() -> bool:
    """True in a kernel where `show_phone_layouts` ran (the book's build): figures shown as PNG carry their phone layout."""
    return _PHONE_LAYOUTS["shown"]
