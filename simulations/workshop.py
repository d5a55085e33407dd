"""The instructor's workshop: grids of runs (sweeps) and team tournaments on identical simulated markets.

This module holds the logic; `simulations.cli` only parses arguments and prints. Everything here is
deterministic given the seeds: each run builds its own `LoyaltyMarket` from (scenario, strategy, seed),
results are put back in the order of the grid, so the number of worker processes changes the speed,
never the numbers.

    from simulations.workshop import sweep, tournament
    df = sweep("telecom", {"frontline_care": [0.2, 0.5, 0.8]}, seeds=3)
    result = tournament("telecom", ["team_a.yaml", "team_b.yaml"], seeds=5)
    print(result.to_text())
"""

from __future__ import annotations

import itertools
import re
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import rules
from .errors import InvalidParameter, LoyaltyLabError, match_name
from .markets import resolve_market
from .scoring import SCORE_FORMULA, SCORE_FORMULAS, SCORE_METHODS, SCORE_WEIGHTS, check_score, outcome_points  # noqa: F401
from .metrics import outcomes
from .model import LoyaltyMarket
from .parameters import LEVERS, LEVERS_BY_NAME, SETTINGS_BY_NAME
from .scenarios import load_scenario
from .strategy import Strategy

# The four headline outcomes of the leaderboard, with how they enter the composite score.
OUTCOMES = ("profit", "retention_12m", "mean_satisfaction", "nps")
OUTCOME_LABELS = {"profit": "profit", "retention_12m": "12-month retention", "mean_satisfaction": "mean satisfaction",
                  "nps": "NPS"}
MAX_WORKERS = 64


# ---------------------------------------------------------------------------------------------- single runs
def run_one(scenario="telecom", strategy=None, seed: int = 1, n_customers: int = 2000, months: int = 36,
            overrides: dict | None = None, keep_series: bool = False) -> dict:
    """One simulated market under one strategy; the headline outcomes as a flat dict.

    Args:
        scenario: market name, YAML path or dict (see `load_scenario`).
        strategy: a `Strategy`, a preset name, a dict of levers or None (balanced).
        seed: the market's seed; the same arguments give the same outcomes.
        n_customers: customers at the start.
        months: months to run.
        overrides: scenario settings to change, e.g. `{"competitive_intensity": 0.2}`.
        keep_series: also return `series`, the monthly active customers and cumulative profit.

    Returns:
        Outcomes: profit, revenue, cost, retention_12m, mean_satisfaction, nps, active, acquired, churned,
        churned_<cause> (cumulative), profit_<tier> (summed over the run), tier_<tier> (customers at the end),
        and the shares of `simulations.metrics.outcomes`.
    """
    model = LoyaltyMarket(scenario=scenario, strategy=strategy, n_customers=n_customers, seed=seed, **(overrides or {}))
    model.run(months)
    monthly = model.datacollector.get_model_vars_dataframe()
    outcome = outcomes(model)
    if keep_series:
        outcome["series"] = {"active": monthly["active"].to_numpy(dtype=float),
                             "cumulative_profit": monthly["cumulative_profit"].to_numpy(dtype=float)}
    return outcome


def seed_list(seeds, first: int = 1) -> list[int]:
    """Seeds as a list: an int K means K seeds `first, first+1, ...`; a list is taken as it is."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if not 1 <= seeds <= 1000:
            raise InvalidParameter("workshop", "seeds", seeds, "a whole number from 1 to 1000, or a list of seeds")
        return list(range(first, first + int(seeds)))
    try:
        chosen = [int(s) for s in seeds]
    except (TypeError, ValueError):
        raise InvalidParameter("workshop", "seeds", seeds, "a whole number from 1 to 1000, or a list of seeds") from None
    if not chosen:
        raise InvalidParameter("workshop", "seeds", seeds, "at least one seed")
    return chosen


def _check_workers(workers) -> int:
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or not 1 <= workers <= MAX_WORKERS:
        raise InvalidParameter("workshop", "workers", workers, f"a whole number from 1 to {MAX_WORKERS}")
    return int(workers)


def run_many(tasks: list[dict], workers: int = 1, progress: bool = False, desc: str = "runs") -> list[dict]:
    """`run_one(**task)` for every task, in parallel processes when `workers` > 1; results in task order.

    Each task is a complete, seeded description of a run, so the results do not depend on which process
    ran it or when it finished.
    """
    from tqdm.auto import tqdm

    workers = _check_workers(workers)
    results: list[dict | None] = [None] * len(tasks)
    with tqdm(total=len(tasks), desc=desc, unit="run", disable=not progress, file=sys.stderr) as bar:
        if workers == 1 or len(tasks) <= 1:
            for i, task in enumerate(tasks):
                results[i] = run_one(**task)
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
                futures = {pool.submit(run_one, **task): i for i, task in enumerate(tasks)}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.update()
    return results


# ---------------------------------------------------------------------------------------------- sweeps
def check_vary(vary: dict) -> dict[str, list]:
    """Validate the levers (or scenario settings) to vary and their values; returns the coerced values.

    Raises:
        UnknownField: a name that is neither a strategy lever nor a scenario setting.
        InvalidParameter: a value outside what the lever allows, or an empty list.
    """
    if not isinstance(vary, dict) or not vary:
        raise InvalidParameter("sweep", "vary", vary, "at least one LEVER=V1,V2,... (a strategy lever or scenario setting)")
    checked = {}
    for given, values in vary.items():
        name = match_name(given, list(LEVERS_BY_NAME) + list(SETTINGS_BY_NAME), "sweep", value=values)
        if name in checked:
            raise InvalidParameter("sweep", name, given, "each lever or setting once")
        spec = LEVERS_BY_NAME.get(name) or SETTINGS_BY_NAME.get(name)
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        values = list(values)
        if not values:
            raise InvalidParameter("sweep", name, values, f"at least one value: {spec.allowed()}")
        checked[name] = [spec.check(v, "sweep") for v in values]
    return checked


def sweep(scenario="telecom", vary: dict | None = None, seeds=3, workers: int = 1, n_customers: int = 2000,
          months: int = 36, progress: bool = False, strategy=None) -> pd.DataFrame:
    """A grid of runs: every combination of the varied values, each on every seed.

    Args:
        scenario: market name or YAML path.
        vary: name -> list of values; a name is a strategy lever (e.g. `frontline_care`) or a scenario
            setting (e.g. `competitive_intensity`).
        seeds: K (seeds 1..K) or a list of seeds.
        workers: processes to run in (1 runs here, in this process).
        n_customers, months: size and length of each run.
        progress: show a progress bar on stderr.
        strategy: the starting strategy that the varied levers change (default: balanced).

    Returns:
        A tidy DataFrame, one row per run: scenario, the varied names, seed, then the outcomes of `run_one`.
        `df.attrs["varied"]` lists the varied names.
    """
    vary = check_vary(vary or {})
    seeds = seed_list(seeds)
    base = Strategy.coerce(strategy)
    scenario = resolve_market(scenario)
    scenario_name = load_scenario(scenario)["name"]
    tasks, keys = [], []
    for combo in itertools.product(*vary.values()):
        setting = dict(zip(vary, combo))
        levers = {k: v for k, v in setting.items() if k in LEVERS_BY_NAME}
        overrides = {k: v for k, v in setting.items() if k not in LEVERS_BY_NAME}
        run_strategy = base.replace(**levers)
        load_scenario(scenario, **overrides)  # fail before any run if settings clash (e.g. tier cut-offs out of order)
        for seed in seeds:
            tasks.append(dict(scenario=scenario, strategy=run_strategy, seed=seed, n_customers=n_customers,
                              months=months, overrides=overrides))
            keys.append({"scenario": scenario_name, **setting, "seed": seed})
    outcomes = run_many(tasks, workers, progress, desc="sweep")
    df = pd.DataFrame([{**key, **out} for key, out in zip(keys, outcomes)])
    df.attrs["varied"] = list(vary)
    return df


def summarise_sweep(df: pd.DataFrame, varied: list[str] | None = None) -> pd.DataFrame:
    """Mean and standard deviation over seeds of each outcome, one row per combination of the varied values."""
    varied = varied or df.attrs.get("varied", [])
    grouped = df.groupby(varied, sort=False)[list(OUTCOMES)]
    table = grouped.mean().join(grouped.std(ddof=0).add_suffix("_sd")).reset_index()
    return table


# ---------------------------------------------------------------------------------------------- tournaments
@dataclass
class LeftOut:
    """A team file that could not be used, and why."""

    team: str
    file: str
    field: str
    reason: str

    def to_text(self) -> str:
        return f"{self.team} ({self.file}): {self.reason}"


@dataclass
class TournamentResult:
    """What a tournament produced: the runs, the leaderboard, each team's debrief data and who was left out."""

    scenario: str
    seeds: list[int]
    n_customers: int
    months: int
    teams: dict[str, Strategy]
    runs: pd.DataFrame
    leaderboard: pd.DataFrame
    debriefs: dict[str, dict]
    left_out: list[LeftOut] = field(default_factory=list)
    score: str = "rank"
    round_label: str | None = None

    @property
    def score_formula(self) -> str:
        """The composite score's formula, in words, for the score method used."""
        return SCORE_FORMULAS[self.score]

    def title(self) -> str:
        """Market, round and seeds (and the size of each market): the leaderboard figure's title."""
        round_part = f", {self.round_label}" if self.round_label else ""
        return (f"{self.scenario}{round_part}, seeds {_seed_text(self.seeds)} "
                f"({self.n_customers:,} customers, {self.months} months, {self.score} scores)")

    def to_text(self) -> str:
        """The leaderboard as a plain-text table, the score's formula and the teams left out."""
        round_part = f" ({self.round_label})" if self.round_label else ""
        lines = [f"Tournament on {self.scenario}{round_part}: {len(self.teams)} teams, seeds {_seed_text(self.seeds)}, "
                 f"{self.n_customers} customers, {self.months} months", "", leaderboard_text(self.leaderboard), "",
                 f"Composite {self.score_formula}."]
        lines.append(left_out_text(self.left_out))
        return "\n".join(lines)


def _seed_text(seeds) -> str:
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


def left_out_text(left_out: list[LeftOut]) -> str:
    """One line naming the teams left out and why (or saying that none was)."""
    if not left_out:
        return "Teams left out: none."
    return "Teams left out: " + "; ".join(item.to_text() for item in left_out) + "."


def _team_names(paths: list[Path]) -> list[str]:
    """File stems, made unique with the parent folder (or a number) when two teams chose the same name."""
    stems = [p.stem for p in paths]
    names = [s if stems.count(s) == 1 else f"{p.resolve().parent.name}/{s}" for p, s in zip(paths, stems)]
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique


def load_teams(team_files) -> tuple[dict[str, Strategy], list[LeftOut]]:
    """Read every team's strategy file; a bad file is left out with the field and the reason, the others go on.

    Args:
        team_files: paths to YAML strategy files, or a dict of team name -> path, Strategy or preset name.
    """
    if isinstance(team_files, dict):
        entries = list(team_files.items())
    else:
        paths = [Path(p) for p in team_files]
        entries = list(zip(_team_names(paths), paths))
    teams, left_out = {}, []
    for name, source in entries:
        try:
            if isinstance(source, (str, Path)) and (isinstance(source, Path) or Path(source).suffix in (".yaml", ".yml")):
                teams[name] = Strategy.from_file(source)
            else:
                teams[name] = Strategy.coerce(source)
        except LoyaltyLabError as err:
            reason = str(err)
            prefix = f"{source}: "
            reason = reason[len(prefix):] if reason.startswith(prefix) else reason
            left_out.append(LeftOut(name, str(source), getattr(err, "field", None) or "file", reason))
    return teams, left_out


def tournament(scenario="telecom", team_files=(), seeds=5, n_customers: int = 2000, months: int = 36,
               workers: int = 1, progress: bool = False, score: str = "rank",
               round_label: str | None = None) -> TournamentResult:
    """Every valid team's strategy on the same simulated markets (the same seeds), then a leaderboard and debriefs.

    Teams share seeds, so each seed gives every team the same starting customers and the same social network;
    after month 0 customers react to each strategy, so what happens next differs because of the strategy.

    Args:
        scenario: market name or YAML path.
        team_files: YAML strategy files (the team is named after the file), or a dict name -> file/Strategy/preset.
        seeds: K (seeds 1..K) or a list of seeds.
        n_customers, months: size and length of each market.
        workers: processes to run in (1 runs here); the results do not depend on it.
        progress: show a progress bar on stderr.
        score: how outcomes become points, "rank" (the default) or "minmax" (see `SCORE_FORMULAS`).
        round_label: a name for this round (e.g. "round 2"), shown in the leaderboard's title.

    Returns:
        A `TournamentResult`. Teams whose file is malformed or out of range are in `.left_out` with the
        field and the reason.

    Raises:
        LoyaltyLabError: no team file could be used, or the scenario is unknown.
    """
    check_score(score)
    scenario = resolve_market(scenario)
    scenario_name = load_scenario(scenario)["name"]
    seeds = seed_list(seeds)
    teams, left_out = load_teams(team_files)
    if not teams:
        error = LoyaltyLabError("tournament: no usable team file; " + left_out_text(left_out))
        error.field, error.value, error.allowed = "team_files", [item.file for item in left_out], "at least one valid file"
        raise error
    tasks = [dict(scenario=scenario, strategy=strategy, seed=seed, n_customers=n_customers, months=months, keep_series=True)
             for strategy in teams.values() for seed in seeds]
    outcomes = run_many(tasks, workers, progress, desc="tournament")
    names = [name for name in teams for _ in seeds]
    series = {name: [] for name in teams}
    rows = []
    for name, task, out in zip(names, tasks, outcomes):
        series[name].append(out.pop("series"))
        rows.append({"team": name, "seed": task["seed"], **out})
    runs = pd.DataFrame(rows)
    board = leaderboard(runs, score)
    debriefs = {name: debrief_data(name, runs, board, teams, series) for name in teams}
    return TournamentResult(scenario_name, seeds, n_customers, months, teams, runs, board, debriefs, left_out,
                            score, round_label)


def leaderboard(runs: pd.DataFrame, score: str = "rank") -> pd.DataFrame:
    """One row per team: averages over seeds, their spread, points per outcome, the composite score and the rank.

    Args:
        runs: one row per team and seed, with the outcomes of `run_one`.
        score: "rank" (default) or "minmax"; the formulas are in `SCORE_FORMULAS`.
    """
    grouped = runs.groupby("team", sort=False)
    board = grouped[list(OUTCOMES) + ["revenue", "cost", "active", "acquired", "churned"]].mean()
    spread = grouped[list(OUTCOMES)].std(ddof=0).fillna(0.0).add_suffix("_sd")
    board = board.join(spread)
    total = pd.Series(0.0, index=board.index)
    for outcome, weight in SCORE_WEIGHTS.items():
        board[f"{outcome}_points"] = outcome_points(board[outcome], score)
        total += weight / 100 * board[f"{outcome}_points"]
    board["score"] = total
    board = board.reset_index().sort_values(["score", "profit", "team"], ascending=[False, False, True], kind="mergesort")
    # teams with the same score and profit (identical strategies) share a rank: 1, 2, 2, 4
    position = np.arange(1, len(board) + 1)
    same = (board["score"].diff() == 0).to_numpy() & (board["profit"].diff() == 0).to_numpy()
    board.insert(0, "rank", [int(p) for p in np.maximum.accumulate(np.where(same, 0, position))])
    front = ["rank", "team", "score", *OUTCOMES]
    return board[front + [c for c in board.columns if c not in front]].reset_index(drop=True)


def leaderboard_text(board: pd.DataFrame) -> str:
    """The leaderboard as an aligned plain-text table (what the room sees on the projector)."""
    shown = pd.DataFrame({
        "rank": board["rank"],
        "team": board["team"],
        "score": board["score"].map("{:.1f}".format),
        "profit": [f"{p:,.0f} ± {s:,.0f}" for p, s in zip(board["profit"], board["profit_sd"])],
        "retention 12m": board["retention_12m"].map("{:.1%}".format),
        "satisfaction": board["mean_satisfaction"].map("{:.3f}".format),
        "NPS": board["nps"].map(lambda v: f"{round(v, 1) + 0.0:+.1f}"),  # + 0.0 turns -0.0 into 0.0
        "customers": board["active"].map("{:,.0f}".format),
    })
    return shown.to_string(index=False)


# ---------------------------------------------------------------------------------------------- debriefs
def debrief_data(team: str, runs: pd.DataFrame, board: pd.DataFrame, teams: dict[str, Strategy], series: dict) -> dict:
    """What a team's debrief shows: its numbers beside the field average, and sentences on what drove its result.

    The field average is the mean over all teams in the tournament (this team included) of each team's
    average over the seeds.
    """
    per_team = runs.drop(columns="seed").groupby("team", sort=False).mean(numeric_only=True)
    mine, field_avg = per_team.loc[team], per_team.mean()
    row = board.set_index("team").loc[team]
    churn = pd.DataFrame({"team": [mine[f"churned_{c}"] for c in rules.CHURN_CAUSES],
                          "field": [field_avg[f"churned_{c}"] for c in rules.CHURN_CAUSES]}, index=list(rules.CHURN_CAUSES))
    tiers = pd.DataFrame({"team": [mine[f"profit_{t}"] for t in rules.TIERS],
                          "field": [field_avg[f"profit_{t}"] for t in rules.TIERS]}, index=list(rules.TIERS))
    outcome_names = ["profit", "revenue", "cost", "retention_12m", "mean_satisfaction", "nps", "active", "acquired", "churned"]
    outcomes = pd.DataFrame({"team": mine[outcome_names], "field": field_avg[outcome_names]})
    levers = lever_table(teams[team], list(teams.values()))
    return {
        "team": team, "rank": int(row["rank"]), "teams": len(board), "score": float(row["score"]),
        "outcomes": outcomes, "churn_by_cause": churn, "profit_by_tier": tiers, "levers": levers,
        "drivers": drivers(outcomes, churn, tiers, levers),
        "series": _series_summary(team, series),
    }


def lever_table(strategy: Strategy, field_strategies: list[Strategy]) -> pd.DataFrame:
    """The team's numeric levers beside the field's average, with the gap as a share of the lever's range."""
    rows = []
    for lever in LEVERS:
        if lever.choices:
            continue
        value = getattr(strategy, lever.name)
        average = float(np.mean([getattr(s, lever.name) for s in field_strategies]))
        rows.append({"lever": lever.name, "label": lever.label, "team": value, "field": average,
                     "gap": (value - average) / (lever.max - lever.min)})
    return pd.DataFrame(rows).set_index("lever")


def _series_summary(team: str, series: dict) -> dict:
    """Monthly active customers and cumulative profit: the team's mean over seeds, the field's mean, min and max."""
    summary = {}
    for key in ("active", "cumulative_profit"):
        team_means = {name: np.mean([s[key] for s in runs], axis=0) for name, runs in series.items()}
        stacked = np.vstack(list(team_means.values()))
        summary[key] = {"team": team_means[team], "field": stacked.mean(axis=0), "low": stacked.min(axis=0),
                        "high": stacked.max(axis=0)}
    return summary


def _signed(value: float, fmt: str = "{:,.0f}") -> str:
    return ("+" if value >= 0 else "-") + fmt.format(abs(value))


def drivers(outcomes: pd.DataFrame, churn: pd.DataFrame, tiers: pd.DataFrame, levers: pd.DataFrame) -> list[str]:
    """Plain sentences on what drove a team's result compared with the field average (the debrief's core)."""
    o = outcomes
    gap = o["team"] - o["field"]
    sentences = [
        f"Profit {o.at['profit', 'team']:,.0f} against a field average of {o.at['profit', 'field']:,.0f} "
        f"({_signed(gap['profit'])}): revenue {_signed(gap['revenue'])} and costs {_signed(gap['cost'])} "
        "compared with the field.",
        f"Customers at the end {o.at['active', 'team']:,.0f} (field {o.at['active', 'field']:,.0f}): "
        f"{o.at['acquired', 'team']:,.0f} ever acquired (field {o.at['acquired', 'field']:,.0f}) and "
        f"{o.at['churned', 'team']:,.0f} lost (field {o.at['churned', 'field']:,.0f}).",
        f"Retention after twelve months {o.at['retention_12m', 'team']:.1%} (field {o.at['retention_12m', 'field']:.1%}), "
        f"mean satisfaction {o.at['mean_satisfaction', 'team']:.2f} (field {o.at['mean_satisfaction', 'field']:.2f}), "
        f"NPS {o.at['nps', 'team']:+.0f} (field {o.at['nps', 'field']:+.0f}).",
    ]
    lost = churn["team"].sum()
    if lost > 0:
        top = churn["team"].idxmax()
        sentences.append(f"The largest group of customers lost left because of {_cause(top)} "
                         f"({churn.at[top, 'team'] / lost:.0%} of those lost).")
    churn_gap = churn["team"] - churn["field"]
    biggest = churn_gap.abs().idxmax()
    if abs(churn_gap[biggest]) >= 1:
        more = "more" if churn_gap[biggest] > 0 else "fewer"
        sentences.append(f"The largest difference in churn is {_cause(biggest)}: {abs(churn_gap[biggest]):,.0f} customers "
                         f"{more} lost than the field average.")
    tier_gap = tiers["team"] - tiers["field"]
    tier = tier_gap.abs().idxmax()
    sentences.append(f"The tier that differs most is {tier.capitalize()}: profit {tiers.at[tier, 'team']:,.0f} from it "
                     f"against {tiers.at[tier, 'field']:,.0f} in the field.")
    distinct = levers[levers["gap"].abs() >= 0.05].reindex(levers["gap"].abs().sort_values(ascending=False).index).dropna()
    if len(distinct):
        described = [f"{row.label} {row.team:.2f} (field {row.field:.2f})" for row in distinct.head(3).itertuples()]
        sentences.append("Levers furthest from the field average: " + "; ".join(described) + ".")
    else:
        sentences.append("Your levers are all within 5% of their range from the field average.")
    return sentences


def _cause(cause: str) -> str:
    from .plots import CAUSE_LABELS

    return CAUSE_LABELS.get(cause, cause)


def debrief_markdown(data: dict, figure_name: str | None = None, score_formula: str = SCORE_FORMULA) -> str:
    """A one-page Markdown debrief for a team: rank, outcomes beside the field, what drove the result, churn, tiers."""
    o = data["outcomes"]
    fmt = {"retention_12m": "{:.1%}", "mean_satisfaction": "{:.3f}", "nps": "{:+.1f}"}
    names = {"retention_12m": "12-month retention", "nps": "net promoter score", "active": "customers at the end",
             "acquired": "customers ever acquired", "churned": "customers lost"}
    lines = [f"# Debrief: {data['team']}", "",
             f"Rank **{data['rank']} of {data['teams']}**, composite score **{data['score']:.1f}** / 100.", ""]
    if figure_name:
        lines += [f"![{data['team']}: churn by cause, profit by tier, customers and profit over time]({figure_name})", ""]
    lines += ["## Outcomes beside the field average", "", "| outcome | your team | field average |", "| --- | ---: | ---: |"]
    for name in o.index:
        f = fmt.get(name, "{:,.0f}")
        lines.append(f"| {names.get(name, name.replace('_', ' '))} | {f.format(o.at[name, 'team'])} | {f.format(o.at[name, 'field'])} |")
    lines += ["", "## What drove the result", ""] + [f"- {s}" for s in data["drivers"]]
    lines += ["", "## Customers lost, by cause", "", "| cause | your team | field average |", "| --- | ---: | ---: |"]
    for cause, row in data["churn_by_cause"].iterrows():
        lines.append(f"| {_cause(cause)} | {row['team']:,.0f} | {row['field']:,.0f} |")
    lines += ["", "## Profit by tier over the run", "", "| tier | your team | field average |", "| --- | ---: | ---: |"]
    for tier, row in data["profit_by_tier"].iterrows():
        lines.append(f"| {tier.capitalize()} | {row['team']:,.0f} | {row['field']:,.0f} |")
    lines += ["", "## Questions for the team", "",
              "- Which lever cost you more than it brought back? Which one would you move first next time?",
              "- Which customers did you lose, and could a lever in your file have kept them?",
              "- Where is your profit made and lost in the customer pyramid?", "",
              f"*Averages over the seeds; the field average is the mean of all teams. Composite {score_formula}.*", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- figures
def leaderboard_figure(board: pd.DataFrame, title: str | None = None):
    """Composite score and the four outcomes per team, best team on top; error bars are ± one sd over seeds.

    Args:
        board: a leaderboard (see `leaderboard`).
        title: shown above the panels; the saved figure is titled with market, round and seeds, since it is
            projected and passed around on its own, far from any caption.
    """
    import matplotlib.pyplot as plt

    n = len(board)
    fig, axes = plt.subplots(1, 5, figsize=(12, 1.6 + 0.42 * n), sharey=True)
    y = np.arange(n)[::-1]
    axes[0].barh(y, board["score"], color="#4a6fa5")
    for position, score in zip(y, board["score"]):  # the number itself, so a zero score is still visible
        inside = score > 20
        axes[0].text(score - 2 if inside else score + 2, position, f"{score:.1f}", va="center", fontsize="small",
                     ha="right" if inside else "left", color="white" if inside else "black")
    axes[0].set_xlabel("composite score (0-100)")
    axes[0].set_xlim(0, 105)
    axes[0].set_yticks(y, [f"{rank}. {team}" for rank, team in zip(board["rank"], board["team"])])
    scales = {"retention_12m": 100, "nps": 1, "mean_satisfaction": 1, "profit": 1}
    labels = {"profit": "profit", "retention_12m": "12-month retention (%)", "mean_satisfaction": "mean satisfaction",
              "nps": "NPS"}
    for ax, outcome in zip(axes[1:], OUTCOMES):
        k = scales[outcome]
        ax.errorbar(board[outcome] * k, y, xerr=board[f"{outcome}_sd"] * k, fmt="o", color="#2b2b2b", ecolor="#999999",
                    capsize=3)
        ax.set_xlabel(labels[outcome])
        ax.grid(axis="x", alpha=0.3)
        if outcome in ("profit", "nps"):
            ax.axvline(0, color="grey", lw=0.8)
    if title:
        fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    return fig


def sweep_figure(df: pd.DataFrame, varied: list[str] | None = None):
    """Each outcome against the first varied name; one line per combination of the others; bars are ± one sd over seeds."""
    import matplotlib.pyplot as plt

    varied = varied or df.attrs.get("varied", [])
    x_name, others = varied[0], varied[1:]
    table = summarise_sweep(df, varied)
    x_values = list(dict.fromkeys(df[x_name]))
    categorical = any(isinstance(v, str) for v in x_values)
    groups = list(table.groupby(others, sort=False)) if others else [((), table)]
    # nudge the lines apart so that their error bars do not hide each other
    span = 1.0 if categorical else (max(x_values) - min(x_values) or 1.0)
    nudges = (np.arange(len(groups)) - (len(groups) - 1) / 2) * 0.012 * span
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, outcome in zip(axes.flat, OUTCOMES):
        for (key, part), nudge in zip(groups, nudges):
            key = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{n}={_short(v)}" for n, v in zip(others, key)) or None
            x = np.array([x_values.index(v) for v in part[x_name]] if categorical else part[x_name], dtype=float) + nudge
            ax.errorbar(x, part[outcome], yerr=part[f"{outcome}_sd"], marker="o", capsize=3, label=label)
        ax.set_xlabel(x_name.replace("_", " "))
        ax.set_ylabel(OUTCOME_LABELS[outcome])
        if categorical:
            ax.set_xticks(range(len(x_values)), [str(v).replace("_", " ") for v in x_values], rotation=20)
        ax.grid(alpha=0.3)
    if others:
        axes[0, 0].legend(fontsize="small", frameon=False)
    fig.tight_layout()
    return fig


def _short(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def debrief_figure(data: dict):
    """Four panels for a team's debrief: churn by cause and profit by tier beside the field average, customers and
    cumulative profit over time against the field's average and range."""
    import matplotlib.pyplot as plt

    from .plots import CAUSE_LABELS

    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    _paired_bars(axes[0, 0], data["churn_by_cause"], [CAUSE_LABELS[c] for c in rules.CHURN_CAUSES], "customers lost")
    _paired_bars(axes[0, 1], data["profit_by_tier"], [t.capitalize() for t in rules.TIERS], "profit over the run")
    axes[0, 1].axvline(0, color="black", lw=0.8)
    for ax, key, label in ((axes[1, 0], "active", "active customers"), (axes[1, 1], "cumulative_profit", "cumulative profit")):
        s = data["series"][key]
        months = np.arange(len(s["team"]))
        ax.fill_between(months, s["low"], s["high"], color="#cccccc", alpha=0.6, label="field range")
        ax.plot(months, s["field"], color="#666666", ls="--", label="field average")
        ax.plot(months, s["team"], color="#d62728", lw=2, label=data["team"])
        ax.set_xlabel("month")
        ax.set_ylabel(label)
    axes[1, 1].axhline(0, color="grey", lw=0.8)
    axes[1, 0].legend(fontsize="small", frameon=False)
    fig.tight_layout()
    return fig


def _paired_bars(ax, table: pd.DataFrame, labels: list[str], xlabel: str):
    y = np.arange(len(table))[::-1]
    ax.barh(y + 0.2, table["team"], height=0.4, color="#d62728", label="your team")
    ax.barh(y - 0.2, table["field"], height=0.4, color="#999999", label="field average")
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)
    ax.legend(fontsize="small", frameon=False)


# ---------------------------------------------------------------------------------------------- saving
def safe_filename(name: str) -> str:
    """A team name as a file name: letters, digits, dot, dash and underscore only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "team"


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from .plots import FIGURE_DPI, save_png

    save_png(fig, path, dpi=FIGURE_DPI)
    plt.close(fig)
    return path


def save_sweep(df: pd.DataFrame, folder) -> list[Path]:
    """Write `sweep.csv` (tidy, one row per run), `sweep_summary.csv` (mean and sd over seeds) and `sweep.png`."""
    folder = Path(folder)
    varied = df.attrs.get("varied", [])
    df.to_csv(folder / "sweep.csv", index=False)
    summarise_sweep(df, varied).to_csv(folder / "sweep_summary.csv", index=False)
    return [folder / "sweep.csv", folder / "sweep_summary.csv", _save(sweep_figure(df, varied), folder / "sweep.png")]


def save_tournament(result: TournamentResult, folder) -> list[Path]:
    """Write the leaderboard (CSV, Markdown, PNG), every run (CSV), each team's debrief (Markdown + PNG) and who was left out."""
    folder = Path(folder)
    written = [folder / "leaderboard.csv", folder / "runs.csv", folder / "leaderboard.md", folder / "left_out.csv"]
    result.leaderboard.to_csv(written[0], index=False)
    result.runs.to_csv(written[1], index=False)
    written[2].write_text(f"# Leaderboard\n\n```\n{result.to_text()}\n```\n\n![leaderboard](leaderboard.png)\n",
                          encoding="utf-8")
    pd.DataFrame([vars(item) for item in result.left_out], columns=["team", "file", "field", "reason"]).to_csv(
        written[3], index=False)
    written.append(_save(leaderboard_figure(result.leaderboard, result.title()), folder / "leaderboard.png"))
    for team, data in result.debriefs.items():
        stem = f"debrief_{safe_filename(team)}"
        written.append(_save(debrief_figure(data), folder / f"{stem}.png"))
        md = folder / f"{stem}.md"
        md.write_text(debrief_markdown(data, f"{stem}.png", result.score_formula), encoding="utf-8")
        written.append(md)
    return written

