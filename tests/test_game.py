"""The game engine (simulations/game.py) and `loyalty-lab game`: rounds carry on, replays are identical, folders are atomic."""

import contextlib
import io
import json

import pytest

from simulations import Strategy
from simulations.cli import main
from simulations.game import Game, GameSettings, Rejected, load_game

SETTINGS = GameSettings("telecom", rounds=3, months_per_round=4, n_customers=600, seed=5)


def run_cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_rounds_carry_customers_money_and_history_forward():
    game = Game(SETTINGS)
    game.play_round({"red": "balanced", "blue": Strategy(price_index=0.9)})
    first = game.standings().set_index("team")
    month_after_first = game.market.month
    customers_before = game.market.people.incarnation.copy()
    game.play_round({"red": {"frontline_care": 0.9}})
    history = game.history()
    assert game.market.month == 2 * SETTINGS.months_per_round == month_after_first + 4  # the same market ran on
    assert list(history.groupby("round")["month"].max()) == [0, 4, 8]
    assert (game.market.people.incarnation >= customers_before).all()  # the same people, no fresh market
    second = game.standings().set_index("team")
    red = history[history["team"] == "red"].set_index("month")
    assert second.loc["red", "profit"] == pytest.approx(red.loc[8, "cumulative_profit"])  # money is cumulative
    assert red.loc[4, "cumulative_profit"] == pytest.approx(first.loc["red", "profit"])
    assert game.current_strategies()["red"].frontline_care == 0.9
    assert game.current_strategies()["blue"].price_index == 0.9  # blue handed in nothing: kept its strategy
    assert "handed in nothing" in game.results[1].notes["blue"]


def test_a_broken_hand_in_keeps_the_last_strategy_and_says_why():
    game = Game(SETTINGS)
    result = game.play_round({"red": Rejected("red.yaml: price_index 3 is not allowed"), "blue": {"price_index": 9}})
    assert "price_index 3" in result.notes["red"] and "balanced (the default)" in result.notes["red"]
    assert "price_index" in result.notes["blue"] and game.current_strategies()["blue"] == Strategy()
    assert "Note:" in game.debrief("red")


def test_replaying_the_record_gives_identical_results():
    game = Game(SETTINGS)
    game.play_round({"red": "balanced", "blue": "neglect", "green": Strategy(price_index=0.85)})
    game.play_round({"blue": "tiered"})
    record = json.loads(json.dumps(game.to_record()))
    again = Game.from_record(record)
    assert again.standings().equals(game.standings())
    assert again.history().equals(game.history())
    record["rounds"][1]["strategies"]["blue"]["price_index"] = 1.2  # a tampered record does not replay
    with pytest.raises(ValueError, match="round 2"):
        Game.from_record(record)


def test_bad_game_input_names_the_field():
    with pytest.raises(ValueError, match="rounds"):
        GameSettings("telecom", rounds=0)
    with pytest.raises(ValueError, match="telcom"):
        GameSettings("telcom")
    game = Game(GameSettings("telecom", rounds=1, months_per_round=2, n_customers=200))
    game.play_round({"a": "balanced", "b": "balanced"})
    with pytest.raises(ValueError, match="round"):
        game.play_round({})
    with pytest.raises(ValueError, match="'c'"):
        Game(SETTINGS, teams=["a", "b"]).play_round({"c": "balanced"})


def test_game_commands_new_play_status(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    teams = tmp_path / "teams"
    teams.mkdir()
    (teams / "red.yaml").write_text("price_index: 0.9\n")
    (teams / "blue.yaml").write_text("Frontline_Care: 0.9\n")
    (teams / "green.yaml").write_text("frontline_cair: 0.9\nprice_index: 7\n")
    code, out, _ = run_cli("game", "new", "TELECOM", "--out", "g", "--rounds", "2", "--months-per-round", "3",
                           "--customers", "500")
    assert code == 0 and "New game in g/" in out
    code, out, _ = run_cli("game", "play", "g", "teams")
    assert code == 0 and "Round 1 of 2" in out
    assert "frontline_cair" in out and "price_index" in out and "played balanced" in out  # every error of green's file
    assert sorted(p.name for p in (tmp_path / "g" / "round-1").iterdir()) == [
        "debrief_blue.md", "debrief_green.md", "debrief_red.md", "standings.csv"]
    assert (tmp_path / "g" / "standings.png").read_bytes()[:4] == b"\x89PNG"
    code, out, _ = run_cli("game", "status", "g")
    assert code == 0 and "1 of 2 rounds played" in out and "blue, green, red" in out
    assert run_cli("game", "play", "g", "teams/red.yaml")[0] == 0
    code, _, err = run_cli("game", "play", "g", "teams/red.yaml")
    assert code == 2 and "finished game" in err


def test_game_play_refuses_a_stranger_and_a_missing_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "red.yaml").write_text("price_index: 0.9\n")
    (tmp_path / "blue.yaml").write_text("price_index: 1.0\n")
    (tmp_path / "purple.yaml").write_text("price_index: 1.0\n")
    assert run_cli("game", "new", "telecom", "--out", "g", "--customers", "300")[0] == 0
    assert run_cli("game", "play", "g", "red.yaml", "blue.yaml")[0] == 0
    code, _, err = run_cli("game", "play", "g", "purple.yaml")
    assert code == 2 and "'purple'" in err and "blue, red" in err
    code, _, err = run_cli("game", "play", "g", "nothere/")
    assert code == 2 and "nothere" in err and "does not exist" in err  # a mistyped path is not a new team
    code, _, err = run_cli("game", "play", "nowhere", "red.yaml")
    assert code == 2 and "game.json" in err
    code, _, err = run_cli("game", "new", "telecom", "--out", "g")
    assert code == 2 and "--force" in err


def test_an_interrupted_play_leaves_the_folder_as_it_was_and_the_round_can_be_played_again(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "red.yaml").write_text("price_index: 0.9\n")
    (tmp_path / "blue.yaml").write_text("frontline_care: 0.8\n")
    assert run_cli("game", "new", "telecom", "--out", "g", "--customers", "300", "--months-per-round", "2")[0] == 0
    assert run_cli("game", "play", "g", "red.yaml", "blue.yaml")[0] == 0
    before = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "g").rglob("*") if p.is_file()}

    import simulations.game as game_module

    real_save = game_module.save_game

    def interrupted(game, folder):
        real_save(game, folder)
        raise KeyboardInterrupt  # Ctrl-C after the new files were written, before the folder is swapped in

    monkeypatch.setattr("simulations.cli.save_game", interrupted)
    code, _, err = run_cli("game", "play", "g", "red.yaml")
    assert code == 130  # the command line's answer to Ctrl-C
    after = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "g").rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".g")] == []  # no temporary folder left behind
    monkeypatch.setattr("simulations.cli.save_game", real_save)
    assert run_cli("game", "play", "g", "red.yaml")[0] == 0
    assert load_game(tmp_path / "g").rounds_played == 2


def test_a_team_name_with_a_slash_saves_without_making_a_folder(tmp_path):
    """A classroom allows "Red / Blue": saving the game writes each debrief under a file-safe name, distinct ones."""
    from simulations.game import save_game

    game = Game(GameSettings("telecom", 1, 2, 200, 1), teams=["Red/Blue", "Red_Blue", "..hidden"])
    game.play_round({})
    written = {path.name for path in save_game(game, tmp_path)}
    assert {"debrief_Red_Blue.md", "debrief_Red_Blue-2.md", "debrief_hidden.md"} <= written
    assert not (tmp_path / "round-1" / "debrief_Red").exists()
    assert "# Red/Blue, round 1" in (tmp_path / "round-1" / "debrief_Red_Blue.md").read_text(encoding="utf-8")
