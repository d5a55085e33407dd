"""A market played in rounds by rival teams: the one game engine behind `loyalty-lab game` and the classroom.

Every team runs a firm in ONE simulated market (`LoyaltyMarket(firms=...)`), so a price cut or a
neglected complaint line wins or loses customers to the others. Between rounds teams change their
strategies; customers, money and history carry on. A game is fully described by its settings and the
strategies played each round (`Game.to_record`): replaying that record gives identical results, which is
how a game is saved, reloaded (`Game.from_record`) and audited.

    game = Game(GameSettings("telecom", rounds=4, months_per_round=6, n_customers=2000, seed=1))
    result = game.play_round({"red": Strategy(), "blue": {"price_index": 0.9}, "green": None})
    game.standings()      # after the last round played
    game.history()        # per firm and month, with the round of each month
    game.debrief("red")   # what happened to red in the last round, in words
    game.add_team("late") # after round 1: a newcomer firm enters the market at the next round, with no customers
    game.customer_flows() # per team: customers won from and lost to each rival (and the pool) in the last round

A team that joins late (`add_team`) plays from the next round on; the rounds before are not played by it
(absent from its standings, history and flows, not zero), and the score then takes every team's profit per round
played (`simulations.scoring.LATE_JOIN_RULE`). A game nobody joins late plays, saves and replays exactly as before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .errors import InvalidParameter, LoyaltyLabError
from .firms import MAX_FIRMS, check_firm_names
from .model import LoyaltyMarket
from .scenarios import load_scenario
from .scoring import LATE_JOIN_RULE, check_score, score_parts
from .strategy import Strategy

RECORD_VERSION = 1
# A game's market is large enough that luck does not rank its teams: six fixed strategies played on different seeds
# come out in nearly the same order (mean rank correlation 0.90 over 24 seeds at 50,000 customers, 0.85 at 30,000,
# 0.68 at 20,000 and 2,000; benchmarks/bench_game_luck.py), and a round still plays in about 0.15 s with 40 teams.
DEFAULT_CUSTOMERS = 50_000
LIMITS = {"rounds": (1, 20), "months_per_round": (1, 24), "n_customers": (100, 200_000), "seed": (0, 2**31 - 1)}
STANDING_COLUMNS = ("rank", "team", "score", "market_share", "active", "profit", "revenue", "retention_12m",
                    "mean_satisfaction", "nps", "won_from_rivals", "lost_to_rivals")


@dataclass(frozen=True)
class GameSettings:
    """What a game is played on: a market, how many rounds of how many months, how many customers, which seed."""

    market: str = "telecom"
    rounds: int = 4
    months_per_round: int = 6
    n_customers: int = DEFAULT_CUSTOMERS
    seed: int = 1
    score: str = "rank"

    def __post_init__(self):
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
                raise InvalidParameter("game", name, value, f"a whole number from {low} to {high}")
        load_scenario(self.market)  # an unknown market fails now, with its name, not at the first round
        check_score(self.score)


@dataclass(frozen=True)
class Rejected:
    """A team's hand-in that could not be used (a broken file, say): the team keeps its last strategy, told why."""

    reason: str


@dataclass
class RoundResult:
    """What a round did: the strategies played, why a team kept its last one, the standings after it."""

    round: int
    strategies: dict          # team -> levers (dict) played this round
    notes: dict               # team -> why its last strategy was kept (only teams that did not hand in a usable one)
    standings: list = field(default_factory=list)  # rows of `Game.standings()` after the round

    def standings_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.standings, columns=list(STANDING_COLUMNS))


class Game:
    """One market played in rounds. Teams are fixed by the first round (or given here), in a fixed order; a team
    that joins later (`add_team`) is appended as a newcomer firm."""

    def __init__(self, settings: GameSettings, teams=None):
        self.settings = settings
        self.teams: tuple[str, ...] = check_firm_names(teams) if teams else ()
        self.results: list[RoundResult] = []
        self.market: LoyaltyMarket | None = None
        self.joined: dict[str, int] = {}  # a team that joined late -> the first round it plays
        self._months_by_round: list[int] = []
        self._flows_by_round: list[pd.DataFrame] = []  # the market's switching table after each round (cumulative)

    # ------------------------------------------------------------------ playing
    @property
    def rounds_played(self) -> int:
        return len(self.results)

    @property
    def finished(self) -> bool:
        return self.rounds_played >= self.settings.rounds

    def first_round(self, team: str) -> int:
        """The first round `team` plays (1, or later for a team that joined late)."""
        return self.joined.get(team, 1)

    def add_team(self, team: str) -> int:
        """A team joins the game: before the first round it is one more team; after it, a newcomer firm that enters
        the market at the next round with no customers (it wins them from the pool and from the other firms).
        Returns the first round it plays. Nothing is drawn, so the game's other teams are unaffected until then.

        Raises:
            InvalidParameter: the game is over, or the name is taken or not a valid firm name.
        """
        if self.finished:
            raise InvalidParameter("game", "team", team, f"a team joining before the last round ({self.settings.rounds})")
        self.teams = check_firm_names(self.teams + (team,))
        if self.market is None:
            return 1
        self.market.add_firm(team, Strategy())
        self.joined[team] = self.rounds_played + 1
        return self.joined[team]

    def current_strategies(self) -> dict[str, Strategy]:
        """Each team's strategy as last played (balanced before the first round)."""
        if self.market is None:
            return {team: Strategy() for team in self.teams}
        return dict(zip(self.market.firms, self.market.firm_book.strategies))

    def play_round(self, submissions: dict, on_month=None) -> RoundResult:
        """Play the next round with what the teams handed in.

        Args:
            submissions: team -> a Strategy, a preset name, a dict of levers, None (nothing handed in) or
                `Rejected(reason)`. A team that hands in nothing or something unusable keeps its last strategy
                (balanced in round 1), and the round's notes say why. Before the first round, the teams are
                those given to the Game or, if none were, the submissions' keys in sorted order.
            on_month: called with the market's month after each month simulated (the classroom's progress).

        Raises:
            InvalidParameter: the game is over, or a submission names a team that is not in the game.
        """
        if self.finished:
            raise InvalidParameter("game", "round", self.rounds_played + 1, f"at most {self.settings.rounds} rounds")
        if self.market is None and not self.teams:
            self.teams = check_firm_names(sorted(submissions))
        unknown = [team for team in submissions if team not in self.teams]
        if unknown:
            raise InvalidParameter("game", "team", unknown[0], f"one of {', '.join(self.teams)}")
        played, notes = self._resolve(submissions)
        if self.market is None:
            s = self.settings
            self.market = LoyaltyMarket(s.market, firms=played, n_customers=s.n_customers, seed=s.seed)
        else:
            for team, strategy in played.items():
                self.market.set_strategy(team, strategy)
        for _ in range(self.settings.months_per_round):
            self.market.step()
            if on_month is not None:
                on_month(self.market.month)
        self._months_by_round.append(self.market.month)
        self._flows_by_round.append(self.market.switching_table())
        result = RoundResult(self.rounds_played + 1, {t: _levers(s) for t, s in played.items()}, notes)
        self.results.append(result)
        result.standings = self.standings().to_dict("records")
        return result

    def _resolve(self, submissions: dict) -> tuple[dict[str, Strategy], dict[str, str]]:
        """Each team's strategy for the round, and why a team keeps its last one."""
        current, played, notes = self.current_strategies(), {}, {}
        for team in self.teams:
            given = submissions.get(team)
            first = self.market is None or self.first_round(team) == self.rounds_played + 1
            kept = "balanced (the default)" if first else "its strategy of last round"
            if given is None:
                played[team], notes[team] = current[team], f"handed in nothing, so played {kept}"
            elif isinstance(given, Rejected):
                played[team], notes[team] = current[team], f"{given.reason}; played {kept}"
            else:
                try:
                    played[team] = Strategy.coerce(given)
                except LoyaltyLabError as err:
                    played[team], notes[team] = current[team], f"{err}; played {kept}"
        return played, notes

    # ------------------------------------------------------------------ reading
    def standings(self) -> pd.DataFrame:
        """One row per team after the last round played: score and rank, share, money (cumulative) and loyalty.

        The score weighs profit, 12-month retention, mean satisfaction and NPS as the tournament does
        (`simulations.scoring`), with rank points by default, so no single extreme team bends the others' scores.
        """
        if self.market is None:
            return pd.DataFrame(columns=list(STANDING_COLUMNS))
        table = self.market.firm_table().rename(columns={"firm": "team"})
        if self.joined:  # scored per round played (scoring.LATE_JOIN_RULE); a game without late teams is untouched
            table["rounds_played"] = [self.rounds_played + 1 - self.first_round(team) for team in table["team"]]
            table = table[table["rounds_played"] > 0]  # a team waiting for its first round is not ranked yet
        score = pd.Series(0.0, index=table.index)
        for part in score_parts(table, self.settings.score).values():  # added in SCORE_WEIGHTS' order, as always
            score += part
        table["score"] = score
        table = table.sort_values(["score", "profit", "team"], ascending=[False, False, True], kind="mergesort")
        table.insert(0, "rank", np.arange(1, len(table) + 1))
        columns = list(STANDING_COLUMNS) + (["rounds_played"] if self.joined else [])
        return table[columns].reset_index(drop=True)

    def history(self) -> pd.DataFrame:
        """One row per firm and month (month 0 included): round, active, market share, profit, cumulative profit.
        A team that joined late has rows from the first month it played: before, it was not in the market."""
        if self.market is None:
            return pd.DataFrame(columns=["month", "round", "team", "active", "market_share", "profit", "cumulative_profit"])
        df = self.market.datacollector.get_model_vars_dataframe()
        rounds = np.searchsorted(np.array(self._months_by_round), df["month"].to_numpy(), side="left") + 1
        rows = []
        for team in self.teams:
            rows.append(pd.DataFrame({
                "month": df["month"].to_numpy(), "round": np.where(df["month"].to_numpy() == 0, 0, rounds), "team": team,
                "active": df[f"active[{team}]"].to_numpy(), "market_share": df[f"market_share[{team}]"].to_numpy(),
                "profit": df[f"profit[{team}]"].to_numpy(), "cumulative_profit": df[f"cumulative_profit[{team}]"].to_numpy(),
            }))
            if team in self.joined:  # the months before it entered are not played (NaN), not zero: left out
                rows[-1] = rows[-1][rows[-1]["active"].notna()].astype({"active": np.int64})
        return pd.concat(rows, ignore_index=True)

    def customer_flows(self, round_number: int | None = None) -> dict[str, dict]:
        """Where each team's customers came from and went in a round (the last by default): team -> {"won_from":
        {rival: n, ..., None: n}, "lost_to": {rival: n, ..., None: n}}, where None is the pool of non-customers (won
        from it: new customers; lost to it: customers who left the market, by any cause). Rivals with no customer
        either way are left out; a team that had not joined yet has no entry."""
        number = round_number or self.rounds_played
        if not 1 <= number <= self.rounds_played:
            raise InvalidParameter("game", "round", number, f"a played round, 1 to {self.rounds_played}")
        now = self._flows_by_round[number - 1].set_index(["from", "to"])["customers"]
        if number > 1:
            before = self._flows_by_round[number - 2].set_index(["from", "to"])["customers"]
            now = now.sub(before, fill_value=0).astype(np.int64)
        flows = {team: {"won_from": {}, "lost_to": {}} for team in self.teams if self.first_round(team) <= number}
        for (source, target), count in now.items():
            source = None if pd.isna(source) else source
            target = None if pd.isna(target) else target
            if count and target in flows:
                flows[target]["won_from"][source] = int(count)
            if count and source in flows:
                flows[source]["lost_to"][target] = int(count)
        return flows

    def debrief(self, team: str, round_number: int | None = None, flows: bool = True) -> str:
        """What happened to `team` in a round (the last by default), in words: rank, share, money, customers won and
        lost (with `flows`, also from and to which rival: the classroom shows those in a table of its own)."""
        if team not in self.teams:
            raise InvalidParameter("game", "team", team, f"one of {', '.join(self.teams) or 'the teams of the game'}")
        if not self.results:
            return f"{team}: no round has been played yet."
        number = round_number or self.rounds_played
        if not 1 <= number <= self.rounds_played:
            raise InvalidParameter("game", "round", number, f"a played round, 1 to {self.rounds_played}")
        if number < self.first_round(team):
            return f"{team}: joined the game in round {self.first_round(team)}; it did not play round {number}."
        return _debrief_text(team, number, self.results, self.history(), self.settings, self.joined,
                             self.customer_flows(number) if flows else None)

    def debriefs(self, round_number: int | None = None, flows: bool = True) -> dict[str, str]:
        """Every team's `debrief` for a round (the last by default), the history built once for all of them."""
        if not self.results:
            return {team: f"{team}: no round has been played yet." for team in self.teams}
        number = round_number or self.rounds_played
        if not 1 <= number <= self.rounds_played:
            raise InvalidParameter("game", "round", number, f"a played round, 1 to {self.rounds_played}")
        history, moved = self.history(), self.customer_flows(number) if flows else None
        return {team: (_debrief_text(team, number, self.results, history, self.settings, self.joined, moved)
                       if self.first_round(team) <= number else
                       f"{team}: joined the game in round {self.first_round(team)}; it did not play round {number}.")
                for team in self.teams}

    # ------------------------------------------------------------------ saving and replaying
    def to_record(self) -> dict:
        """Everything needed to rebuild this game exactly (JSON-ready): settings, teams, each round's strategies and notes."""
        record = {"version": RECORD_VERSION, "settings": asdict(self.settings), "teams": list(self.teams),
                  "rounds": [{"round": r.round, "strategies": r.strategies, "notes": r.notes, "standings": r.standings}
                             for r in self.results]}
        if self.joined:  # only a game with late teams has it, so other records are as before
            record["joined"] = dict(self.joined)
        return record

    @classmethod
    def from_record(cls, record: dict) -> "Game":
        """Rebuild a game by replaying its recorded rounds; refuses a record whose replay does not give the recorded standings."""
        if not isinstance(record, dict) or record.get("version") != RECORD_VERSION:
            raise InvalidParameter("game record", "version", record.get("version") if isinstance(record, dict) else record,
                                   f"{RECORD_VERSION}")
        joined = record.get("joined") or {}
        if not isinstance(joined, dict) or not all(isinstance(n, int) and n >= 2 for n in joined.values()):
            raise InvalidParameter("game record", "joined", joined, "team -> the round (2 or later) it joined at")
        founders = [team for team in record.get("teams") or () if team not in joined]
        game = cls(GameSettings(**record["settings"]), founders or None)
        for saved in record["rounds"]:
            game._let_in(joined)
            result = game.play_round(saved["strategies"])
            result.notes = dict(saved.get("notes", {}))
            if _rounded(result.standings) != _rounded(saved.get("standings", result.standings)):
                raise InvalidParameter("game record", f"round {saved['round']}", "standings differ on replay",
                                       "a record written by this version of loyalty-lab")
        game._let_in(joined)  # teams waiting for the next round (the classroom records them when it claims one)
        return game

    def _let_in(self, joined: dict) -> None:
        """Add, in the record's order, the late teams whose first round is the next one."""
        for team, first in joined.items():
            if first == self.rounds_played + 1 and team not in self.teams:
                self.add_team(team)


def _levers(strategy: Strategy) -> dict:
    return {name: getattr(strategy, name) for name in strategy.__dataclass_fields__}


def _rounded(rows: list) -> list:
    """Standings compared after a JSON round trip: floats to 9 significant digits."""
    return [{k: (float(f"{v:.9g}") if isinstance(v, float) else v) for k, v in row.items()} for row in rows]


def _debrief_text(team: str, number: int, results: list, history: pd.DataFrame, settings: GameSettings,
                  joined: dict | None = None, flows: dict | None = None) -> str:
    row = next(r for r in results[number - 1].standings if r["team"] == team)
    mine = history[history["team"] == team]
    if (joined or {}).get(team) == number:  # a newcomer's first round starts from nothing
        before = {"market_share": 0.0, "cumulative_profit": 0.0}
    else:
        before = mine[mine["round"] < number].iloc[-1] if (mine["round"] < number).any() else mine.iloc[0]
    after = mine[mine["round"] == number].iloc[-1]
    earlier = next((r for r in results[number - 2].standings if r["team"] == team), None) if number > 1 else None
    won_now = row["won_from_rivals"] - (earlier["won_from_rivals"] if earlier else 0)
    lost_now = row["lost_to_rivals"] - (earlier["lost_to_rivals"] if earlier else 0)
    lines = [
        f"Round {number} of {settings.rounds} on {settings.market}: {team} ranks {row['rank']} of {len(results[number - 1].standings)} "
        f"(score {row['score']:.1f}).",
        f"Market share went from {before['market_share']:.1%} to {after['market_share']:.1%}; the round's profit was "
        f"{after['cumulative_profit'] - before['cumulative_profit']:,.0f} (cumulative {after['cumulative_profit']:,.0f}).",
        f"This round {team} won {won_now:,} customers from rivals and lost {lost_now:,} to them.",
        f"Satisfaction is {row['mean_satisfaction']:.2f} and 12-month retention {row['retention_12m']:.0%}; NPS {row['nps']:+.0f}.",
    ]
    if flows and team in flows:
        lines.append(_flows_sentence(flows[team]))
    if joined and team in joined:
        lines.append(f"{team} joined in round {joined[team]} as a newcomer firm with no customers; {LATE_JOIN_RULE}.")
    if won_now < lost_now:
        lines.append("Rivals' offers looked better to your customers than yours did: a customer switches when a rival's "
                     "offer would satisfy them more (see the chapter on competing for the same customers).")
    note = results[number - 1].notes.get(team)
    if note:
        lines.append(f"Note: {note}.")
    return "\n".join(lines)


def _flows_sentence(flow: dict) -> str:
    """'Customers won: 34 from blue, 120 new to you; lost: 20 to blue, 80 who left the market.' (pool last)."""
    def listed(counts: dict, rival_word: str, pool_words: str) -> str:
        parts = [f"{n:,} {rival_word} {rival}" for rival, n in counts.items() if rival is not None]
        if counts.get(None):
            parts.append(f"{counts[None]:,} {pool_words}")
        return ", ".join(parts) or "none"
    return (f"Customers won this round: {listed(flow['won_from'], 'from', 'from non-customers')}; lost: "
            f"{listed(flow['lost_to'], 'to', 'who left the market')}.")


__all__ = ["Game", "GameSettings", "Rejected", "RoundResult", "MAX_FIRMS", "STANDING_COLUMNS"]


# ---------------------------------------------------------------------------------------------- a game as a folder
GAME_FILE = "game.json"


def save_game(game: Game, folder) -> list:
    """Write everything a game folder holds into `folder` (the command line wraps this in an atomic folder).

    game.json (the record: settings, teams, every round's strategies, notes and standings), standings.csv and
    standings.png after the last round, and per round round-N/standings.csv and round-N/debrief_TEAM.md.
    """
    import json
    from pathlib import Path

    folder = Path(folder)
    written = [folder / GAME_FILE]
    written[0].write_text(json.dumps(game.to_record(), indent=1), encoding="utf-8")
    if not game.results:
        return written
    game.standings().to_csv(folder / "standings.csv", index=False)
    figure = standings_figure(game)
    from .plots import FIGURE_DPI, save_png

    save_png(figure, folder / "standings.png", dpi=FIGURE_DPI, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    written += [folder / "standings.csv", folder / "standings.png"]
    for result in game.results:
        sub = folder / f"round-{result.round}"
        sub.mkdir()
        result.standings_frame().to_csv(sub / "standings.csv", index=False)
        written.append(sub / "standings.csv")
        texts = game.debriefs(result.round)
        for team, stem in _file_stems(game.teams).items():
            path = sub / f"debrief_{stem}.md"
            path.write_text(f"# {team}, round {result.round}\n\n" + texts[team].replace("\n", "\n\n") + "\n",
                            encoding="utf-8")
            written.append(path)
    return written


def _file_stems(teams) -> dict:
    """Each team's name as part of a file name: '/', '\\' and the other characters a file system refuses become '_'
    (a team called "Red/Blue" would otherwise name a folder); two names that end up the same get -2, -3, ..."""
    import re

    stems, used = {}, set()
    for team in teams:
        stem = re.sub(r'[\x00-\x1f/\\:*?"<>|]', "_", team).lstrip(".") or "team"
        candidate, number = stem, 1
        while candidate.lower() in used:
            number += 1
            candidate = f"{stem}-{number}"
        used.add(candidate.lower())
        stems[team] = candidate
    return stems


def load_game(folder) -> Game:
    """The game saved in `folder` by `save_game`, rebuilt by replaying its rounds."""
    import json
    from pathlib import Path

    from .errors import BadInput

    path = Path(folder) / GAME_FILE
    if not path.is_file():
        raise BadInput("DIR", str(folder), "holds no game.json", "a folder made by 'loyalty-lab game new'")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise BadInput("DIR", str(folder), f"has a game.json that cannot be read ({err})",
                       "a folder made by 'loyalty-lab game new'") from None
    return Game.from_record(record)


def standings_figure(game: Game, title: str | None = None):
    """Market share and cumulative profit of every team by month, with the round boundaries marked."""
    import matplotlib.pyplot as plt

    history = game.history()
    fig, (share, profit) = plt.subplots(1, 2, figsize=(8, 3.2), constrained_layout=True)
    for team, rows in history.groupby("team", sort=False):
        share.plot(rows["month"], 100 * rows["market_share"], label=team)
        profit.plot(rows["month"], rows["cumulative_profit"], label=team)
    boundaries = [0] + list(game._months_by_round)
    from matplotlib.ticker import MaxNLocator

    for ax in (share, profit):
        for month in boundaries[1:-1]:
            ax.axvline(month, color="grey", linewidth=0.8, linestyle=":")
        ax.set_xlabel("month (dotted lines: rounds)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    share.set_ylabel("market share (%)")
    profit.set_ylabel("cumulative profit")
    profit.legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, fontsize="small")
    s = game.settings
    fig.suptitle(title or f"{s.market}, round {game.rounds_played} of {s.rounds}, seed {s.seed} "
                          f"({s.n_customers:,} customers, {s.months_per_round} months a round)", fontsize="medium")
    return fig
