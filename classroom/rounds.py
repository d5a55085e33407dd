"""Playing a round off the request path: a worker thread, a heartbeat with progress, one transaction at the end.

`POST /api/games/{game}/rounds` only claims the round (`Store.claim_round`) and hands it to `RoundWorker`; the
worker rebuilds the game from its record (`Game.from_record`, or the game it kept in memory from the last round),
plays the round with the hand-ins (`Game.play_round`), and saves the new record with the round's standings,
debriefs and monthly history in one transaction (`Store.save_round`). Meanwhile a heartbeat thread writes the
months simulated so far, which `round_status` shows; a worker that dies (a killed server) stops beating, and its
round counts as interrupted and can be played again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from simulations.game import Game, GameSettings
from simulations.rules import CHURN_CAUSES
from simulations.scoring import score_parts

from .storage import POOL, Store

HEARTBEAT_SECONDS = 0.5
KEPT_GAMES = 8  # games kept in memory between rounds, so a round does not replay the earlier ones
log = logging.getLogger("classroom.rounds")


class RoundWorker:
    """One worker thread per app process: rounds of different games queue; the database decides who plays what."""

    def __init__(self, store: Store, month_pause: float = 0.0):
        self.store, self.month_pause = store, month_pause
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="round")
        self.kept: OrderedDict[str, Game] = OrderedDict()

    def start(self, game_id: str) -> dict:
        """Claim the next round of `game_id` and queue it; returns {round, status}. Raises Conflict if it cannot."""
        job = self.store.claim_round(game_id)
        # the heartbeat starts now, so a round queued behind another game's is not taken for a dead one
        job |= {"game": None, "phase": "queued", "start_month": 0, "done": threading.Event()}
        threading.Thread(target=self._heartbeat, args=(game_id, job), daemon=True).start()
        self.executor.submit(self._play, game_id, job)
        return {"round": job["round"], "status": "running"}

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)

    def _play(self, game_id: str, job: dict) -> None:
        try:
            job["phase"] = "replaying earlier rounds"
            game = self._game(game_id, job["record"])
            for team in job["record"]["teams"]:  # a team that joined late enters the market now, as a newcomer firm
                if team not in game.teams:
                    game.add_team(team)
            job.update(game=game, phase="playing", start_month=game.market.month if game.market else 0)
            game.play_round(job["submissions"], on_month=self._after_month)
            job["phase"] = "saving"
            self.store.save_round(game_id, job["claim"], game.to_record(), round_results(game))
            self._keep(game_id, game)
        except Exception as err:  # a failed round is reported on the console, never half-saved
            log.exception("round %s of game %s failed", job["round"], game_id)
            self.kept.pop(game_id, None)
            self.store.fail_round(game_id, job["claim"], f"{type(err).__name__}: {err}")
        finally:
            job["done"].set()

    def _game(self, game_id: str, record: dict) -> Game:
        """The game as recorded: the one kept in memory if it is at the same round, else replayed from the record."""
        kept = self.kept.pop(game_id, None)
        if kept is not None and kept.rounds_played == len(record["rounds"]):
            return kept  # saved rounds never change, so a game at the same round count is this one
        if not record["rounds"]:
            return Game(GameSettings(**record["settings"]), teams=record["teams"])
        return Game.from_record(record)

    def _after_month(self, month: int) -> None:
        if self.month_pause:
            time.sleep(self.month_pause)  # see Settings.month_pause

    def _keep(self, game_id: str, game: Game) -> None:
        self.kept[game_id] = game
        while len(self.kept) > KEPT_GAMES:
            self.kept.popitem(last=False)

    def _heartbeat(self, game_id: str, job: dict) -> None:
        """Every HEARTBEAT_SECONDS until the round ends: 'alive', with the months simulated so far."""
        months = job["record"]["settings"]["months_per_round"]
        while not job["done"].wait(HEARTBEAT_SECONDS):
            game = job["game"]
            month = game.market.month if game is not None and game.market is not None else job["start_month"]
            progress = {"phase": job["phase"], "months": months,
                        "months_done": min(months, max(0, month - job["start_month"]))}
            try:
                self.store.report_progress(game_id, job["claim"], progress)
            except Exception:  # a busy database skips a beat; the round goes on
                log.warning("heartbeat of game %s skipped", game_id, exc_info=True)


def round_results(game: Game) -> dict:
    """What the pages read about the last round without replaying: strategies, notes, standings, debriefs, history,
    and for the debrief's 'why': each team's score parts and its customers lost so far by cause."""
    last = game.results[-1]
    history = game.history()
    # the history built once for all teams (40 teams: 2.4 s -> 0.1 s); the customers won and lost by rival are
    # saved as numbers (flows) and shown as a table in the page's language, not as the engine's English sentence
    debriefs = game.debriefs(last.round, flows=False)
    this_round = history[history["round"] == last.round] if last.round > 1 else history
    table = pd.DataFrame(last.standings)
    parts = score_parts(table, game.settings.score)
    score_parts_by_team = {row["team"]: {outcome: float(part.iloc[index]) for outcome, part in parts.items()}
                           for index, row in enumerate(last.standings)}
    churned = game.market.ledger.churned  # cumulative, one row per firm in the market's order
    churn = {team: dict(zip(CHURN_CAUSES, (int(n) for n in churned[index])))
             for index, team in enumerate(game.market.firms)}
    flows = {team: {way: {(POOL if other is None else other): n for other, n in counts.items()}
                    for way, counts in flow.items()} for team, flow in game.customer_flows(last.round).items()}
    return {"strategies": last.strategies, "notes": last.notes, "standings": last.standings,
            "debriefs": debriefs, "history": this_round.to_dict("records"), "score_parts": score_parts_by_team,
            "churn": churn, "flows": flows, "joined": dict(game.joined)}
