"""The classroom's figure: market share and cumulative profit by month, with the round boundaries.

The pages draw it in the browser (static/classroom.js, SVG) from `chart_data`: one small JSON document per game and
revealed round, the same for every team, so 200 phones reloading cost the server a cached answer each, not a
drawing each (matplotlib on the server took 13 s at p95 for 40 teams, behind one lock). `market_png` still draws it
with matplotlib (object API, no pyplot: requests run in threads) for the PNG addresses other tools use.
Team names are drawn as plain text: mathtext is off for them, so a name with dollar signs is not read as a formula.
"""

from __future__ import annotations

import io
import threading

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .i18n import N_, _, number

DRAWING = threading.Lock()  # matplotlib is not thread-safe; requests draw in worker threads, one figure at a time
MAX_LEGEND = 12  # beyond this many teams the legend names the highlighted team and the leaders only


def chart_data(history: list[dict], standings: list[dict], upto: int) -> dict:
    """What the browser draws: months, where each round ends, and per team (in standings order) its rank, score,
    market share (%) and cumulative profit by month. Values are rounded to what a chart can show."""
    months = sorted({row["month"] for row in history})
    ends: dict[int, int] = {}
    series: dict[str, dict] = {}
    for row in history:
        if row["round"]:
            ends[row["round"]] = max(ends.get(row["round"], 0), row["month"])
        series.setdefault(row["team"], {})[row["month"]] = row
    ranked = [s for s in standings if s["team"] in series] or [{"team": t, "rank": None, "score": None} for t in series]
    teams = []
    for standing in ranked:
        rows = series[standing["team"]]
        teams.append({"name": standing["team"], "rank": standing["rank"], "score": standing.get("score"),
                      "share": [_rounded(rows.get(m, {}).get("market_share"), 100, 2) for m in months],
                      "profit": [_rounded(rows.get(m, {}).get("cumulative_profit"), 1, 0) for m in months]})
    return {"round": upto, "months": months, "round_ends": [ends[r] for r in sorted(ends)], "teams": teams}


def _rounded(value, scale: float, digits: int):
    return None if value is None else round(float(value) * scale, digits)


def market_png(history: list[dict], teams: list[str], highlight: str | None = None, stacked: bool = False) -> bytes:
    """Two panels, market share and cumulative profit by month, one line per team in `teams` order.

    Side by side for a projector; `stacked` (one above the other, the legend below) for a phone's narrow column.
    """
    with DRAWING:
        size = (6.0, 8.0) if stacked else (10.0, 4.2)
        figure = Figure(figsize=size, dpi=110, layout="constrained")
        FigureCanvasAgg(figure)
        share_axes, profit_axes = figure.subplots(2, 1, sharex=True) if stacked else figure.subplots(1, 2)
        _draw(share_axes, history, teams, "market_share", highlight, scale=100)
        _draw(profit_axes, history, teams, "cumulative_profit", highlight)
        share_axes.set_ylabel(_("market share (%%)") % {})
        profit_axes.set_ylabel(_("cumulative profit"))
        for axes in (profit_axes,) if stacked else (share_axes, profit_axes):
            axes.set_xlabel(_("month"))
        for axes in (share_axes, profit_axes):
            _round_boundaries(axes, history)
        _legend(figure, share_axes, history, teams, highlight, stacked)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw(axes, history, teams, column, highlight, scale=1.0):
    colours = matplotlib.colormaps["tab20"] if len(teams) > 10 else matplotlib.colormaps["tab10"]
    for index, team in enumerate(teams):
        rows = sorted((r for r in history if r["team"] == team), key=lambda r: r["month"])
        if not rows:
            continue
        months = [r["month"] for r in rows]
        values = [(r[column] or 0.0) * scale for r in rows]
        mine = team == highlight
        axes.plot(months, values, color=colours(index % colours.N), label=team,
                  linewidth=3.2 if mine else 1.6, alpha=1.0 if mine or highlight is None else 0.55,
                  zorder=3 if mine else 2)
    axes.grid(alpha=0.3)


def _round_boundaries(axes, history):
    """A dashed line where each round ends, labelled with the round that starts there."""
    ends = {}
    for row in history:
        if row["round"]:
            ends[row["round"]] = max(ends.get(row["round"], 0), row["month"])
    for number, month in sorted(ends.items())[:-1]:
        axes.axvline(month, color="0.4", linestyle="--", linewidth=1)
    for number in sorted(ends):
        start = ends.get(number - 1, 0)
        axes.annotate(_("round {round}").replace("{round}", str(number)), xy=((start + ends[number]) / 2, 1.0), xycoords=("data", "axes fraction"),
                      ha="center", va="bottom", fontsize=9, color="0.3")


def _legend(figure, axes, history, teams, highlight, stacked):
    handles, labels = axes.get_legend_handles_labels()
    if not handles:
        return
    if len(handles) > MAX_LEGEND:  # forty names do not fit: keep the leaders by last share and the team's own line
        last = {r["team"]: r["market_share"] or 0.0 for r in sorted(history, key=lambda r: r["month"])}
        keep = set(sorted(last, key=last.get, reverse=True)[:MAX_LEGEND - 1]) | {highlight}
        pairs = [(h, name) for h, name in zip(handles, labels) if name in keep]
        handles, labels = [h for h, _ in pairs], [name for _, name in pairs]
    if stacked:
        legend = figure.legend(handles, labels, loc="outside lower center", ncols=min(3, len(labels)), frameon=False,
                               fontsize=9)
    else:
        legend = figure.legend(handles, labels, loc="outside right upper", frameon=False, fontsize=9)
    for text in legend.get_texts():
        text.set_parse_math(False)  # a team named "$x$" is text, not a formula


def checks_svg(checks) -> str:
    """The grader's checks as an inline SVG: per goal, the starting strategy's and yours, with the goal's mark.

    Drawn as text on the server (no matplotlib, no lock, no script): the practice page shows it with the feedback,
    and nothing is fetched from anywhere else. Each row is scaled to its own largest value, since profit and
    retention share no unit.
    """
    from html import escape

    row_height, label_width, bar_width = 46, 150, 300
    starting, yours, goal = _("starting strategy:"), _("your strategy:"), _("goal")
    legend_text = _("grey: starting strategy; colour: yours (green met, red not yet); dashed line: the goal")
    label = _("Your strategy against the starting strategy, goal by goal")
    rows = []
    for index, check in enumerate(checks):
        target = check.target * abs(check.baseline) + check.baseline if "relative" in check.kind else check.target
        scale = max(abs(check.value), abs(check.baseline), abs(target), 1e-9)
        top = index * row_height
        rows.append(
            f'<text x="0" y="{top + 18}" font-size="12">{escape(metric_name(check.metric))}</text>'
            f'<rect x="{label_width}" y="{top + 6}" width="{bar_width * max(check.baseline, 0) / scale:.1f}" height="14" '
            f'fill="#9e9e9e"><title>{escape(starting)} {_three_digits(check.baseline)}</title></rect>'
            f'<rect x="{label_width}" y="{top + 22}" width="{bar_width * max(check.value, 0) / scale:.1f}" height="14" '
            f'fill="{"#2e7d32" if check.met else "#c62828"}"><title>{escape(yours)} '
            f'{_three_digits(check.value)}</title></rect>'
            f'<line x1="{label_width + bar_width * max(target, 0) / scale:.1f}" x2="{label_width + bar_width * max(target, 0) / scale:.1f}" '
            f'y1="{top + 2}" y2="{top + 40}" stroke="#000" stroke-dasharray="3 2"><title>{escape(goal)}</title></line>')
    height = row_height * len(checks) + 20
    legend = (f'<text x="{label_width}" y="{height - 4}" font-size="11">'
              f'{escape(legend_text)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="checks-figure" role="img" width="{label_width + bar_width + 20}" '
            f'height="{height}" aria-label="{escape(label)}">'
            + "".join(rows) + legend + "</svg>")


# the outcomes a challenge's goal can name (exercises/challenges/*.yaml), as the checks figure labels them
METRICS = [N_("profit"), N_("retention 12m"), N_("market share"), N_("nps"), N_("advocates"),
           N_("churned competitor"), N_("churned indifference"), N_("lost to rivals"), N_("share apostle"),
           N_("share hostage"), N_("upper rungs"), N_("mean satisfaction")]


def metric_name(metric: str) -> str:
    return _(metric.replace("_", " "))


def _three_digits(value: float) -> str:
    """A value to three significant digits ('{:,.3g}'), with the language's decimal sign and grouping."""
    text = f"{value:,.3g}"
    if "e" in text or not any(ch.isdigit() for ch in text):
        return text
    digits = len(text.split(".")[1]) if "." in text else 0
    return number(float(text.replace(",", "")), digits)
