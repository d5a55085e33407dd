"""The `loyalty-lab` command line end to end, in a temporary folder: every subcommand, its files, exit codes, bad input."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import exercises
from simulations import Strategy, list_scenarios
from simulations.cli import help_texts, main
from simulations.parameters import LEVERS

SMALL = ["--customers", "200", "--months", "12"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
COMMANDS = ["scenarios", "run", "new-strategy", "check", "grade", "sweep", "tournament", "game", "sensitivity", "calibrate",
            "classroom", "quizzes"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Every test works in its own empty folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 5000


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _one_line_error(err: str, *fragments):
    """Bad input: one line on stderr, naming what was wrong, and no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# ---------------------------------------------------------------------------------------------- help
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"loyalty-lab {command}" in out
    assert "examples:" in out


def test_top_level_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(command in out for command in COMMANDS)
    assert set(help_texts()) == {"loyalty-lab", *COMMANDS}


def test_help_fits_a_terminal_and_the_book():
    """The appendix shows the help texts as they are: no line wider than a standard terminal."""
    for name, text in help_texts().items():
        assert all(len(line) <= 80 for line in text.splitlines()), name


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    _one_line_error(capsys.readouterr().err, "COMMAND")


# ---------------------------------------------------------------------------------------------- scenarios, run
def test_scenarios_lists_every_market(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in list_scenarios())
    assert "near-monopoly" in out  # the utility's one-line description


def test_run_prints_a_summary_and_writes_csv_and_figures(in_tmp, capsys):
    assert main(["run", "telecom", "--strategy", "neglect", "--seed", "4", "--out", "r1", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "strategy neglect" in out and "12-month retention" in out and "indifference" in out
    folder = in_tmp / "r1"
    monthly = pd.read_csv(folder / "monthly.csv")
    assert len(monthly) == 13 and {"active", "profit", "churned_indifference"} <= set(monthly.columns)
    assert len(pd.read_csv(folder / "customers.csv")) == monthly["active"].iloc[-1]
    assert Strategy.from_file(folder / "strategy.yaml") == Strategy.preset("neglect")
    for figure in ("dashboard.png", "churn_by_cause.png", "whale_curve.png", "profit.png"):
        assert _is_png(folder / figure), figure
    # the same seed gives the same run
    assert main(["run", "telecom", "--strategy", "neglect", "--seed", "4", "--out", "r2", *SMALL]) == 0
    pd.testing.assert_frame_equal(monthly, pd.read_csv(in_tmp / "r2" / "monthly.csv"))


def test_run_reads_a_strategy_file(in_tmp, capsys):
    Strategy(frontline_care=0.9).to_file(in_tmp / "mine.yaml")
    assert main(["run", "utility", "--strategy", "mine.yaml", *SMALL]) == 0
    assert "strategy mine" in capsys.readouterr().out
    assert Strategy.from_file(in_tmp / "run-utility" / "strategy.yaml").frontline_care == 0.9


def test_existing_output_is_kept_without_force_and_replaced_whole_with_it(in_tmp, capsys):
    assert main(["run", "telecom", "--seed", "1", "--out", "keep", *SMALL]) == 0
    (in_tmp / "keep" / "stale_debrief.md").write_text("from an earlier run", encoding="utf-8")
    before = _digest(in_tmp / "keep")
    capsys.readouterr()
    assert main(["run", "telecom", "--seed", "2", "--out", "keep", *SMALL]) == 2
    _one_line_error(capsys.readouterr().err, "--out", "keep", "--force")
    assert _digest(in_tmp / "keep") == before
    assert main(["run", "telecom", "--seed", "2", "--out", "keep", "--force", *SMALL]) == 0
    after = _digest(in_tmp / "keep")
    assert after["monthly.csv"] != before["monthly.csv"]
    assert "stale_debrief.md" not in after  # --force replaces the earlier output entirely: nothing stale is left
    assert set(after) == set(before) - {"stale_debrief.md"}
    assert sorted(p.name for p in in_tmp.iterdir()) == ["keep"]  # no temporary folder is left beside it


def test_force_never_replaces_a_folder_of_someone_elses_files(in_tmp, capsys):
    own = in_tmp / "mine"
    own.mkdir()
    (own / "notes.txt").write_text("the instructor's own notes", encoding="utf-8")
    assert main(["run", "telecom", "--out", "mine", "--force", *SMALL]) == 2
    _one_line_error(capsys.readouterr().err, "--out", "mine", "did not write")
    assert [p.name for p in own.iterdir()] == ["notes.txt"]


def test_an_empty_existing_folder_is_used(in_tmp):
    (in_tmp / "empty").mkdir()
    assert main(["run", "telecom", "--out", "empty", *SMALL]) == 0
    assert (in_tmp / "empty" / "monthly.csv").exists()


# ---------------------------------------------------------------------------------------------- new-strategy
def test_new_strategy_writes_a_commented_template(in_tmp, capsys):
    assert main(["new-strategy", "team.yaml"]) == 0
    text = (in_tmp / "team.yaml").read_text(encoding="utf-8")
    for lever in LEVERS:
        assert f"\n{lever.name}: " in text
        assert lever.allowed() in text and lever.help in text
    assert Strategy.from_file(in_tmp / "team.yaml") == Strategy()
    assert main(["new-strategy", "bond.yaml", "--preset", "bonding"]) == 0
    assert Strategy.from_file(in_tmp / "bond.yaml") == Strategy.preset("bonding")


def test_new_strategy_does_not_overwrite_without_force(in_tmp, capsys):
    (in_tmp / "team.yaml").write_text("frontline_care: 0.9\n", encoding="utf-8")
    assert main(["new-strategy", "team.yaml"]) == 2
    _one_line_error(capsys.readouterr().err, "team.yaml", "--force")
    assert (in_tmp / "team.yaml").read_text(encoding="utf-8") == "frontline_care: 0.9\n"
    assert main(["new-strategy", "team.yaml", "--force"]) == 0
    assert Strategy.from_file(in_tmp / "team.yaml") == Strategy()


# ---------------------------------------------------------------------------------------------- grade
class _FakeResult:
    def __init__(self, passed):
        self.passed = passed

    def to_text(self):
        return f"fake grade: {'passed' if self.passed else 'not passed'}"


@pytest.mark.parametrize("passed, code", [(True, 0), (False, 1)])
def test_grade_exit_code_follows_the_result(passed, code, in_tmp, monkeypatch, capsys):
    calls = []

    def fake_grade(challenge_id, strategy, n_customers=None, progress=False):
        calls.append((challenge_id, strategy, n_customers))
        return _FakeResult(passed)

    monkeypatch.setattr(exercises, "grade", fake_grade, raising=False)
    monkeypatch.setattr(exercises, "list_challenges", lambda: ["ch01_first_look"], raising=False)
    Strategy().to_file(in_tmp / "mine.yaml")
    assert main(["grade", "ch01_first_look", "mine.yaml", "--customers", "300"]) == code
    assert capsys.readouterr().out.strip() == _FakeResult(passed).to_text()
    assert calls == [("ch01_first_look", "mine.yaml", 300)]
    assert main(["grade", "ch99_nothing", "mine.yaml"]) == 2
    _one_line_error(capsys.readouterr().err, "ch99_nothing", "ch01_first_look")
    assert main(["grade", "ch01_first_look", "missing.yaml"]) == 2
    _one_line_error(capsys.readouterr().err, "missing.yaml")


def test_grade_with_the_real_challenges(in_tmp, capsys):
    challenges = pytest.importorskip("exercises.challenges")
    challenge = challenges.list_challenges()[0]
    Strategy().to_file(in_tmp / "mine.yaml")
    code = main(["grade", challenge, "mine.yaml", "--customers", "300"])
    out = capsys.readouterr().out
    result = challenges.grade(challenge, str(in_tmp / "mine.yaml"), n_customers=300)
    assert code == (0 if result.passed else 1)
    assert out.strip() == result.to_text().strip()


# ---------------------------------------------------------------------------------------------- sweep
def test_sweep_writes_tidy_csv_and_plot(in_tmp, capsys):
    args = ["sweep", "telecom", "--vary", "frontline_care=0.2,0.8", "--vary", "loyalty_programme=none,cobranded_card",
            "--seeds", "2", "--workers", "1", "--out", "sw", *SMALL]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "8 runs (4 settings x 2 seeds)" in out
    df = pd.read_csv(in_tmp / "sw" / "sweep.csv")
    assert len(df) == 8
    assert {"frontline_care", "loyalty_programme", "seed", "profit", "retention_12m", "mean_satisfaction", "nps"} <= set(df.columns)
    summary = pd.read_csv(in_tmp / "sw" / "sweep_summary.csv")
    assert len(summary) == 4 and "profit_sd" in summary.columns
    assert _is_png(in_tmp / "sw" / "sweep.png")


# ---------------------------------------------------------------------------------------------- tournament
@pytest.fixture
def teams(in_tmp):
    folder = in_tmp / "teams"
    folder.mkdir()
    for name in ("balanced", "neglect", "tiered"):
        Strategy.preset(name).to_file(folder / f"{name}.yaml")
    (folder / "oops.yaml").write_text("frontline_care: 0.5\nreward_rate: 0.5\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not a team", encoding="utf-8")
    return folder


def test_tournament_runs_the_good_teams_and_names_the_bad_one(in_tmp, teams, capsys):
    files = sorted(str(p) for p in teams.glob("*.yaml"))
    assert main(["tournament", "telecom", *files, "--seeds", "2", "--workers", "1", "--out", "t", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "rank" in out and "score" in out and "Composite score = 0.4 x profit" in out
    left_out_line = next(line for line in out.splitlines() if line.startswith("Teams left out"))
    assert "oops" in left_out_line and "reward_rate" in left_out_line and "0.5" in left_out_line
    folder = in_tmp / "t"
    board = pd.read_csv(folder / "leaderboard.csv")
    assert sorted(board["team"]) == ["balanced", "neglect", "tiered"]
    assert board["rank"].tolist() == [1, 2, 3]
    assert pd.read_csv(folder / "left_out.csv")[["team", "field"]].values.tolist() == [["oops", "reward_rate"]]
    runs = pd.read_csv(folder / "runs.csv")
    assert len(runs) == 3 * 2
    assert _is_png(folder / "leaderboard.png")
    for team in board["team"]:
        assert _is_png(folder / f"debrief_{team}.png")
        page = (folder / f"debrief_{team}.md").read_text(encoding="utf-8")
        assert page.startswith(f"# Debrief: {team}") and "What drove the result" in page
    assert not (folder / "debrief_oops.md").exists()


def test_tournament_accepts_a_folder_and_is_reproducible(in_tmp, teams, capsys):
    assert main(["tournament", "telecom", "teams", "--seeds", "2", "--workers", "2", "--out", "a", *SMALL]) == 0
    assert "Ignored (not .yaml or .yml): teams/notes.txt." in capsys.readouterr().out
    assert main(["tournament", "telecom", "teams", "--seeds", "2", "--workers", "1", "--out", "b", *SMALL]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(in_tmp / "a" / "leaderboard.csv"), pd.read_csv(in_tmp / "b" / "leaderboard.csv"))


def test_tournament_with_no_usable_team_fails(in_tmp, teams, capsys):
    assert main(["tournament", "telecom", str(teams / "oops.yaml"), "--out", "t", *SMALL]) == 2
    _one_line_error(capsys.readouterr().err, "no usable team", "oops", "reward_rate")


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("args, fragments", [
    (["run", "telcom"], ["scenario", "'telcom'", "telecom, utility"]),
    (["tournament", "mars", "x.yaml"], ["scenario", "'mars'", "telecom"]),
    (["sweep", "telecom", "--vary", "frontline_cair=0.1,0.2"], ["frontline_cair", "did you mean 'frontline_care'"]),
    (["sweep", "telecom", "--vary", "frontline_care=0.1,1.7"], ["frontline_care", "1.7", "a number from 0 to 1"]),
    (["sweep", "telecom", "--vary", "frontline_care=low"], ["frontline_care", "'low'", "a number from 0 to 1"]),
    (["sweep", "telecom", "--vary", "loyalty_programme=air_miles"], ["loyalty_programme", "air_miles", "membership_club"]),
    (["sweep", "telecom", "--vary", "frontline_care"], ["--vary", "LEVER=V1,V2"]),
    (["run", "telecom", "--customers", "lots"], ["--customers", "'lots'", "a whole number from 10 to 1000000"]),
    (["run", "telecom", "--months", "2.5"], ["--months", "'2.5'", "whole number"]),
    (["tournament", "telecom", "x.yaml", "--seeds", "0"], ["--seeds", "'0'", "from 1 to 1000"]),
    (["sweep", "telecom", "--vary", "frontline_care=0.2", "--workers", "-1"], ["--workers", "'-1'"]),
    (["run", "telecom", "--strategy", "greedy"], ["--strategy", "'greedy'", "balanced, neglect, tiered, bonding"]),
    (["frobnicate"], ["frobnicate", "scenarios"]),
])
def test_bad_input_exits_2_with_one_line(args, fragments, capsys):
    assert main(args) == 2
    captured = capsys.readouterr()
    _one_line_error(captured.err, *fragments)


def test_bad_strategy_file_in_run(in_tmp, capsys):
    (in_tmp / "bad.yaml").write_text("service_gold: very high\n", encoding="utf-8")
    assert main(["run", "telecom", "--strategy", "bad.yaml", *SMALL]) == 2
    _one_line_error(capsys.readouterr().err, "bad.yaml", "service_gold", "very high", "from 0 to 1")
    assert not (in_tmp / "run-telecom").exists()  # nothing is written before the input is known to be good


def test_a_strategy_file_is_data_never_code(in_tmp, capsys):
    marker = in_tmp / "pwned"
    (in_tmp / "evil.yaml").write_text(f'!!python/object/apply:os.system ["touch {marker}"]\n', encoding="utf-8")
    assert main(["run", "telecom", "--strategy", "evil.yaml", *SMALL]) == 2
    _one_line_error(capsys.readouterr().err, "evil.yaml", "not valid YAML")
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------- the installed script
def _console_script() -> str:
    script = shutil.which("loyalty-lab", path=str(Path(sys.executable).parent)) or shutil.which("loyalty-lab")
    if script is None:
        pytest.fail("the loyalty-lab console script is not installed next to this Python; reinstall the package")
    return script


def test_installed_console_script_runs_a_tournament(in_tmp, teams):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([_console_script(), "tournament", "telecom", "teams", "--seeds", "1", "--workers", "1", *SMALL],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Teams left out: oops" in done.stdout
    assert (in_tmp / "tournament-telecom" / "leaderboard.png").exists()
    bad = subprocess.run([_console_script(), "run", "telcom"], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2
    _one_line_error(bad.stderr, "telcom")


def test_python_dash_m_works(in_tmp):
    done = subprocess.run([sys.executable, "-m", "simulations.cli", "scenarios"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "telecom" in done.stdout


# ---------------------------------------------------------------------------------------------- issue 10: check
def test_check_reports_every_error_of_every_file_and_writes_nothing(in_tmp, teams, capsys):
    (teams / "typos.yaml").write_text("Frontline_Cair: 0.8\nreward_rate: 5\nservice_gold: 0.5\nservice_gold: 0.6\n",
                                      encoding="utf-8")
    (teams / "empty.yaml").write_text("# to do\n", encoding="utf-8")
    (teams / "mixed_case.yaml").write_text("Frontline_Care: 0.8\n", encoding="utf-8")
    before = sorted(p.name for p in in_tmp.rglob("*"))
    assert main(["check", "teams"]) == 2
    out = capsys.readouterr().out
    assert sorted(p.name for p in in_tmp.rglob("*")) == before  # nothing run, nothing written
    lines = out.splitlines()
    for good in ("balanced", "neglect", "tiered", "mixed_case"):
        assert f"teams/{good}.yaml: ok" in lines
    assert "teams/typos.yaml: 3 errors" in lines
    typos = out.split("teams/typos.yaml: 3 errors")[1]
    assert "did you mean 'frontline_care'" in typos and "'reward_rate': 5" in typos and "line 4" in typos
    assert "teams/oops.yaml: 1 error" in lines and "reward_rate" in out.split("teams/oops.yaml: 1 error")[1]
    assert "teams/empty.yaml: 1 error" in lines and "empty or holds only comments" in out
    assert "Ignored (not .yaml or .yml): teams/notes.txt." in lines
    assert "4 of 7 files ok. Fix the errors above, then check again." in lines


def test_check_passes_good_files_and_can_be_run_again(in_tmp, teams, capsys):
    """The session plan's team check used to fail on a team's second try (its output folder existed)."""
    for _ in range(2):
        assert main(["check", str(teams / "balanced.yaml"), str(teams / "tiered.yaml")]) == 0
        out = capsys.readouterr().out
        assert out.endswith("2 of 2 files ok.\n")
    assert sorted(p.name for p in in_tmp.iterdir()) == ["teams"]


def test_check_is_fast(in_tmp, teams):
    import time

    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "simulations.cli", "check", "teams"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "oops.yaml: 1 error" in done.stdout
    assert time.perf_counter() - started < 10  # seconds, whatever the machine: nothing is simulated


# ---------------------------------------------------------------------------------------------- issue 10: defects
def test_an_empty_team_file_is_left_out_instead_of_playing_balanced(in_tmp, teams, capsys):
    (teams / "oops.yaml").write_text("# we will fill this in later\n", encoding="utf-8")
    assert main(["tournament", "telecom", "teams", "--seeds", "1", "--workers", "1", "--out", "t", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "Teams left out: oops" in out and "empty or holds only comments" in out
    assert sorted(pd.read_csv(in_tmp / "t" / "leaderboard.csv")["team"]) == ["balanced", "neglect", "tiered"]


def test_a_team_file_with_several_errors_is_left_out_with_all_of_them(in_tmp, teams, capsys):
    (teams / "oops.yaml").write_text("frontline_care: 0.5\nreward_rate: 0.5\nreward_rate: 0.1\nbonds: 1\n",
                                     encoding="utf-8")
    assert main(["tournament", "telecom", "teams", "--seeds", "1", "--workers", "1", "--out", "t", *SMALL]) == 0
    left_out = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Teams left out"))
    assert "2 errors" in left_out and "'reward_rate' is given twice: again on line 3" in left_out
    assert "no field 'bonds'" in left_out


def test_the_forgotten_market_is_named(in_tmp, teams, capsys):
    """`tournament teams/red.yaml teams/` used to say "scenario has no field 'service_platinum'"."""
    assert main(["tournament", "teams/balanced.yaml", "teams/", *SMALL]) == 2
    _one_line_error(capsys.readouterr().err, "'teams/balanced.yaml'", "strategy file, not a market",
                    "the market is missing")
    assert main(["tournament", "teams/", "teams/balanced.yaml", *SMALL]) == 2
    _one_line_error(capsys.readouterr().err, "'teams/'", "is a folder, not a market", "market is missing")
    assert sorted(p.name for p in in_tmp.iterdir()) == ["teams"]


@pytest.mark.parametrize("market", ["TELECOM", "Telecom", "telecom"])
def test_market_names_match_whatever_their_case(market, in_tmp, capsys):
    assert main(["run", market, "--out", "r", *SMALL]) == 0
    assert "Run: telecom," in capsys.readouterr().out


@pytest.mark.parametrize("args, fragments", [
    (["run", "telcom"], ["'telcom'", "did you mean 'telecom'"]),
    (["run", "Retail-Bank"], ["'Retail-Bank'", "did you mean 'retail_bank'"]),
    (["sweep", "telecom", "--vary", "Frontline_Cair=0.1"], ["Frontline_Cair", "did you mean 'frontline_care'"]),
])
def test_unknown_names_get_did_you_mean(args, fragments, capsys):
    assert main(args) == 2
    _one_line_error(capsys.readouterr().err, *fragments)


def test_lever_names_match_whatever_their_case_on_the_command_line(in_tmp, capsys):
    (in_tmp / "red.yaml").write_text("Frontline_Care: 0.9\n", encoding="utf-8")
    assert main(["run", "telecom", "--strategy", "red.yaml", "--out", "r", *SMALL]) == 0
    assert Strategy.from_file(in_tmp / "r" / "strategy.yaml").frontline_care == 0.9
    assert main(["sweep", "telecom", "--vary", "Frontline_Care=0.2,0.8", "--seeds", "1", "--workers", "1",
                 "--out", "s", *SMALL]) == 0
    assert "frontline_care" in pd.read_csv(in_tmp / "s" / "sweep.csv").columns


def test_force_replaces_an_earlier_tournament_entirely(in_tmp, teams, capsys):
    args = ["tournament", "telecom", "--seeds", "1", "--workers", "1", "--out", "round1", *SMALL]
    assert main([*args[:2], "teams", *args[2:]]) == 0
    assert (in_tmp / "round1" / "debrief_neglect.md").exists()
    assert main([*args[:2], "teams/balanced.yaml", "teams/tiered.yaml", *args[2:], "--force"]) == 0
    names = {p.name for p in (in_tmp / "round1").iterdir()}
    assert "debrief_neglect.md" not in names and "debrief_neglect.png" not in names  # no stale debrief
    assert {"debrief_balanced.md", "debrief_tiered.md", "leaderboard.png"} <= names
    assert sorted(pd.read_csv(in_tmp / "round1" / "leaderboard.csv")["team"]) == ["balanced", "tiered"]
    assert sorted(p.name for p in in_tmp.iterdir()) == ["round1", "teams"]


def test_ctrl_c_while_writing_leaves_the_earlier_folder_exactly_as_it_was(in_tmp, teams, monkeypatch, capsys):
    from simulations import workshop

    args = ["tournament", "telecom", "teams", "--seeds", "1", "--workers", "1", "--out", "round1", *SMALL]
    assert main(args) == 0
    before = _digest(in_tmp / "round1")
    real_save = workshop.save_tournament

    def save_then_interrupt(result, folder):
        real_save(result, folder)  # every file written in the temporary folder...
        (folder / "leaderboard.csv").write_text("half written", encoding="utf-8")
        raise KeyboardInterrupt  # ...then Ctrl-C before the folder is put in place

    monkeypatch.setattr(workshop, "save_tournament", save_then_interrupt)
    capsys.readouterr()
    assert main([*args, "--force", "--first-seed", "9"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert _digest(in_tmp / "round1") == before
    assert sorted(p.name for p in in_tmp.iterdir()) == ["round1", "teams"]  # the temporary folder is gone


def test_ctrl_c_during_the_runs_leaves_no_folder(in_tmp, teams, monkeypatch, capsys):
    from simulations import workshop

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(workshop, "run_many", interrupted)
    assert main(["tournament", "telecom", "teams", "--out", "round1", *SMALL]) == 130
    assert sorted(p.name for p in in_tmp.iterdir()) == ["teams"]


def test_an_output_under_a_file_gives_one_line_and_exit_2(in_tmp, capsys):
    (in_tmp / "report.txt").write_text("a file, not a folder", encoding="utf-8")
    assert main(["run", "telecom", "--out", "report.txt/run1", *SMALL]) == 2
    _one_line_error(capsys.readouterr().err, "--out", "report.txt/run1", "cannot be written")


def _make_unwritable(folder: Path):
    """Make a folder that this process really cannot write into: chmod for a normal user; root ignores file
    modes, so as root the folder is made immutable (chattr +i), which stops root too."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return lambda: folder.chmod(0o755)
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: cannot make a folder unwritable")
    return lambda: subprocess.run([chattr, "-i", str(folder)], check=True)


def test_a_read_only_output_gives_one_line_and_exit_2(in_tmp, teams, capsys):
    locked = in_tmp / "locked"
    locked.mkdir()
    undo = _make_unwritable(locked)
    try:
        with pytest.raises(OSError):  # the test is real: this folder cannot be written
            (locked / "probe").mkdir()
        assert main(["tournament", "telecom", "teams", "--seeds", "1", "--out", "locked/round1", *SMALL]) == 2
        _one_line_error(capsys.readouterr().err, "--out", "locked/round1", "cannot be written")
        assert main(["run", "telecom", "--out", "locked/run", *SMALL]) == 2
        _one_line_error(capsys.readouterr().err, "--out", "locked/run", "cannot be written")
        assert list(locked.iterdir()) == []
    finally:
        undo()


def test_a_read_only_earlier_output_is_kept_and_reported(in_tmp, capsys):
    assert main(["run", "telecom", "--out", "r", *SMALL]) == 0
    before = _digest(in_tmp / "r")
    undo = _make_unwritable(in_tmp)  # the folder that holds r: r can be neither replaced nor built beside
    try:
        assert main(["run", "telecom", "--out", "r", "--force", "--seed", "3", *SMALL]) == 2
        _one_line_error(capsys.readouterr().err, "--out", "'r'", "cannot be written")
    finally:
        undo()
    assert _digest(in_tmp / "r") == before


def test_the_current_folder_is_never_replaced(in_tmp, capsys):
    (in_tmp / "old.csv").write_text("a,b\n", encoding="utf-8")
    assert main(["run", "telecom", "--out", ".", "--force", *SMALL]) == 2
    _one_line_error(capsys.readouterr().err, "--out", "'.'", "current folder")
    assert [p.name for p in in_tmp.iterdir()] == ["old.csv"]


@pytest.mark.parametrize("pause", ["fast", "-1", "60"])
def test_classroom_refuses_a_month_pause_it_cannot_use(pause, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("LOYALTY_LAB_MONTH_PAUSE", pause)
    assert main(["classroom", "--data", str(tmp_path / "data"), "--port", "8765"]) == 2
    _one_line_error(capsys.readouterr().err, "LOYALTY_LAB_MONTH_PAUSE", repr(pause), "from 0 to 5")
