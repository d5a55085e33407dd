"""Late joins (a newcomer firm enters the market mid-game) and customers won and lost by rival (issue 19)."""

import json

import numpy as np
import pandas as pd
import pytest

from simulations import LoyaltyMarket
from simulations.errors import InvalidParameter
from simulations.game import STANDING_COLUMNS, Game, GameSettings
from simulations.scoring import per_round_played, score_parts

SETTINGS = GameSettings("telecom", rounds=3, months_per_round=4, n_customers=1500, seed=4)


def late_game() -> Game:
    game = Game(SETTINGS)
    game.play_round({"red": None, "blue": {"price_index": 0.9}})
    assert game.add_team("green") == 2
    game.play_round({"green": {"price_index": 0.85, "acquisition_budget": 0.9}})
    game.play_round({})
    return game


def test_a_newcomer_firm_starts_with_no_customers_and_wins_them():
    market = LoyaltyMarket("telecom", firms={"a": "balanced", "b": "neglect"}, n_customers=1500, seed=3).run(5)
    market.add_firm("c", {"acquisition_budget": 0.9})
    assert market.active_by_firm()[2] == 0 and market.entered("c") == 5 and market.entered("a") == 0
    market.run(5)
    frame = market.datacollector.get_model_vars_dataframe()
    assert frame["active[c]"].iloc[:6].isna().all(), "months before it entered are not played, not zero"
    assert frame["active[c]"].iloc[-1] > 0
    ledger = market.ledger
    assert ledger.won[2] > 0 and ledger.recruited[2] > 0, "it wins customers from rivals and from the pool"
    assert (ledger.acquired == market.active_by_firm() + ledger.churned.sum(axis=1)).all()


def test_only_a_market_of_rivals_can_grow():
    with pytest.raises(InvalidParameter, match="firms="):
        LoyaltyMarket("telecom", "balanced", n_customers=200, seed=1).add_firm("x")
    market = LoyaltyMarket("telecom", firms={"a": "balanced"}, n_customers=200, seed=1)
    with pytest.raises(InvalidParameter, match="case clash"):
        market.add_firm("A")  # names differing only in case clash


def test_switching_is_recorded_between_each_pair_of_firms():
    market = LoyaltyMarket("telecom", firms={"a": "balanced", "b": "neglect", "c": "bonding"}, n_customers=3000,
                           seed=6).run(12)
    ledger = market.ledger
    assert ledger.switched.sum() > 0 and np.diag(ledger.switched).sum() == 0
    assert (ledger.switched.sum(axis=1) == ledger.lost).all() and (ledger.switched.sum(axis=0) == ledger.won).all()
    table = market.switching_table()
    pool_in = table[table["from"].isna()].set_index("to")["customers"]
    frame = market.datacollector.get_model_vars_dataframe()
    for name in market.firms:
        assert pool_in[name] == frame[f"new_customers[{name}]"].sum()


def test_a_late_team_plays_from_the_next_round_and_its_missed_rounds_are_not_played():
    game = late_game()
    assert game.teams == ("blue", "red", "green") and game.joined == {"green": 2}
    assert [row["team"] for row in game.results[0].standings if row["team"] == "green"] == []
    history = game.history()
    green = history[history["team"] == "green"]
    assert green["round"].min() == 2 and green["month"].min() == 5 and green["active"].dtype == np.int64
    assert "green" not in game.results[1].notes and game.results[1].strategies["green"]["price_index"] == 0.85
    assert game.results[2].notes["green"] == "handed in nothing, so played its strategy of last round"
    standings = game.standings().set_index("team")
    assert standings.loc["green", "rounds_played"] == 2 and standings.loc["red", "rounds_played"] == 3
    assert "did not play round 1" in game.debrief("green", 1)
    first = game.debrief("green", 2)
    assert "went from 0.0%" in first and "joined in round 2 as a newcomer" in first


def test_a_late_team_is_scored_per_round_played():
    game = late_game()
    table = game.standings()
    fair = per_round_played(table)
    assert (fair["profit"] == table["profit"] / table["rounds_played"]).all()
    parts = score_parts(table)
    assert np.allclose(sum(parts.values()), table["score"])
    same = table.assign(rounds_played=3)
    assert per_round_played(same) is same, "teams that all played every round are scored as before"


def test_a_late_game_replays_from_its_record_and_a_pending_joiner_is_kept():
    game = late_game()
    record = json.loads(json.dumps(game.to_record()))
    assert record["joined"] == {"green": 2}
    again = Game.from_record(record)
    pd.testing.assert_frame_equal(again.standings(), game.standings())
    pd.testing.assert_frame_equal(again.history(), game.history())
    waiting = Game(SETTINGS)
    waiting.play_round({"red": None, "blue": None})
    waiting.add_team("green")
    silent = Game.from_record(json.loads(json.dumps(waiting.to_record())))
    silent.play_round({})
    assert silent.results[1].notes["green"] == "handed in nothing, so played balanced (the default)"
    pending = Game.from_record(json.loads(json.dumps(waiting.to_record())))
    assert pending.teams == ("blue", "red", "green") and pending.joined == {"green": 2}
    assert "green" not in set(pending.standings()["team"]), "not ranked before it plays"
    with pytest.raises(InvalidParameter, match="joined"):
        Game.from_record(record | {"joined": {"green": 1}})


def test_a_game_nobody_joins_late_keeps_its_record_and_columns():
    game = Game(SETTINGS)
    game.play_round({"red": None, "blue": None})
    assert "joined" not in game.to_record()
    assert list(game.standings().columns) == list(STANDING_COLUMNS)


def test_no_team_joins_a_finished_game():
    game = Game(GameSettings("telecom", rounds=1, months_per_round=1, n_customers=200, seed=1))
    game.play_round({"a": None})
    with pytest.raises(InvalidParameter, match="before the last round"):
        game.add_team("b")


def test_customer_flows_add_up_to_each_rounds_won_and_lost():
    game = late_game()
    for number in (2, 3):
        flows = game.customer_flows(number)
        now = {r["team"]: r for r in game.results[number - 1].standings}
        before = {r["team"]: r for r in game.results[number - 2].standings}
        for team, flow in flows.items():
            won = sum(n for rival, n in flow["won_from"].items() if rival is not None)
            lost = sum(n for rival, n in flow["lost_to"].items() if rival is not None)
            assert won == now[team]["won_from_rivals"] - before.get(team, {}).get("won_from_rivals", 0)
            assert lost == now[team]["lost_to_rivals"] - before.get(team, {}).get("lost_to_rivals", 0)
            for rival, n in flow["won_from"].items():
                if rival is not None:
                    assert flows[rival]["lost_to"][team] == n
            start = before.get(team, {}).get("active", 0)
            assert now[team]["active"] - start == sum(flow["won_from"].values()) - sum(flow["lost_to"].values())
    assert "green" not in game.customer_flows(1)
    text = game.debrief("red")
    assert "Customers won this round:" in text and " from green" in text
    assert "Customers won" not in game.debrief("red", flows=False)


def test_the_command_line_lets_a_team_join_late_only_when_asked(tmp_path, monkeypatch, capsys):
    from simulations import Strategy
    from simulations.cli import main
    from simulations.game import load_game

    monkeypatch.chdir(tmp_path)
    assert main(["game", "new", "telecom", "--out", "g", "--rounds", "3", "--months-per-round", "2",
                 "--customers", "300"]) == 0
    for team in ("red", "blue", "green"):
        Strategy().to_file(tmp_path / f"{team}.yaml")
    assert main(["game", "play", "g", "red.yaml", "blue.yaml"]) == 0
    capsys.readouterr()
    assert main(["game", "play", "g", "green.yaml"]) == 2
    assert "--late-joins" in capsys.readouterr().err
    assert main(["game", "play", "g", "green.yaml", "--late-joins"]) == 0
    out = capsys.readouterr().out
    assert "rounds_played" in out
    game = load_game(tmp_path / "g")
    assert game.joined == {"green": 2} and game.teams == ("blue", "red", "green")
    debrief = (tmp_path / "g" / "round-1" / "debrief_green.md").read_text(encoding="utf-8")
    assert "did not play round 1" in debrief
    assert "Customers won this round:" in (tmp_path / "g" / "round-2" / "debrief_red.md").read_text(encoding="utf-8")
