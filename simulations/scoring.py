"""The tournament's composite score: how each outcome becomes 0-100 points, and how the points are weighted.

Kept apart from `workshop` (and free of heavy imports) so that the command line can state the formula in its help.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import InvalidParameter

if TYPE_CHECKING:
    import pandas as pd

SCORE_WEIGHTS = {"profit": 40, "retention_12m": 20, "mean_satisfaction": 20, "nps": 20}
_WEIGHTED = "score = 0.4 x profit + 0.2 x 12-month retention + 0.2 x mean satisfaction + 0.2 x NPS"
# How each outcome becomes 0-100 points. "rank" is the default: a team's points depend on its place among the
# teams, not on the distance to the others, so one extreme team (say at a huge loss) cannot squeeze everyone
# else's differences together. "minmax" rescales between the lowest and the highest team, as early versions did.
SCORE_METHODS = ("rank", "minmax")
SCORE_FORMULAS = {
    "rank": (
        f"{_WEIGHTED}, where each outcome gives rank points: 100 x (the teams this team beats on that outcome + half "
        "the teams it ties with) / (teams-1), from each team's average over the seeds (best team 100, worst 0, "
        "a team alone 100), so how far ahead or behind a team is never moves another team's points; ties in score "
        "are broken by profit, and teams equal on both share a rank"
    ),
    "minmax": (
        f"{_WEIGHTED}, where each outcome is the team's average over the seeds, rescaled to 0-100 between the lowest "
        "(0) and the highest (100) team in this tournament (all teams get 100 on an outcome where they tie), so one "
        "extreme team squeezes the others together; ties in score are broken by profit, and teams equal on both "
        "share a rank"
    ),
}
SCORE_FORMULA = SCORE_FORMULAS["rank"]


def check_score(score: str) -> str:
    """The score method if it is known; otherwise an InvalidParameter naming the methods."""
    if score not in SCORE_METHODS:
        raise InvalidParameter("tournament", "score", score, "one of " + ", ".join(SCORE_METHODS))
    return score


LATE_JOIN_RULE = ("a team that joined late is scored on the same formula, with every team's profit taken per round "
                  "it played (its cumulative profit divided by its rounds), so the rounds it missed neither count as "
                  "losses nor as zero profit; retention, satisfaction and NPS are those of its own customers")


def per_round_played(table: pd.DataFrame) -> pd.DataFrame:
    """The table to score: as it is, unless it has a `rounds_played` column in which teams differ (a team joined
    late, see LATE_JOIN_RULE); then `profit` is each team's profit per round played."""
    if "rounds_played" not in table or table["rounds_played"].nunique() <= 1:
        return table
    return table.assign(profit=table["profit"] / table["rounds_played"].clip(lower=1))


def score_parts(table: pd.DataFrame, score: str = "rank") -> dict:
    """Each outcome's share of every team's score: outcome -> weight/100 x its points (a team's parts sum to its
    score; a missing outcome counts as the worst). The game's standings and the classroom's export both use it.
    A table of teams that played different numbers of rounds is scored per round played (`per_round_played`)."""
    table = per_round_played(table)
    return {outcome: weight / 100 * outcome_points(table[outcome].fillna(-1e12), score)
            for outcome, weight in SCORE_WEIGHTS.items()}


def outcome_points(values: pd.Series, score: str = "rank") -> pd.Series:
    """0-100 points for one outcome (higher is better), one value per team; see `SCORE_FORMULAS`."""
    check_score(score)
    if score == "rank":
        if len(values) == 1:
            return values * 0 + 100.0
        # average rank from the bottom, minus one = teams beaten + half the others tied with
        return 100 * (values.rank(method="average") - 1) / (len(values) - 1)
    low, high = values.min(), values.max()
    return 100 * (values - low) / (high - low) if high > low else values * 0 + 100.0
