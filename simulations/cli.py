"""`loyalty-lab`: the instructor's command line (scenarios, single runs, strategy files, checks, grading, sweeps,
tournaments).

Run `loyalty-lab --help` or `loyalty-lab COMMAND --help`. Also `python -m simulations.cli`.
This module only parses arguments, checks them and prints; the work is in `simulations.workshop`.
Bad input ends with one line naming the field, the value and what is allowed, and exit code 2.

Each subcommand is one self-contained block below: a function decorated with `@command` that declares the
subcommand's parser, and the handler it points to. A new subcommand is a new block; nothing else changes.
Output folders are built beside their target and renamed into place (`simulations.files.atomic_folder`).
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path

from .errors import BadInput, InvalidParameter, LoyaltyLabError, did_you_mean, match_name
from .files import atomic_folder, atomic_write_text
from .game import DEFAULT_CUSTOMERS, LIMITS, Game, GameSettings, Rejected, load_game, save_game
from .markets import resolve_market
from .parameters import LEVERS_BY_NAME, SETTINGS_BY_NAME
from .scenarios import list_scenarios, load_scenario
from .scoring import SCORE_FORMULAS, SCORE_METHODS
from .strategy import PRESET_DESCRIPTIONS, PRESETS, Strategy

PROG = "loyalty-lab"
HELP_WIDTH = 78  # fixed, so the help text (and the book's command-line appendix) does not depend on the terminal

DESCRIPTION = """\
Loyalty Lab's command line: run simulated customer bases, sweep a lever,
check and grade strategy files and hold team tournaments on identical
simulated markets.

Run 'loyalty-lab COMMAND --help' for the options and examples of each command."""


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line (no usage block) and exit with code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _formatter(prog):
    return argparse.RawDescriptionHelpFormatter(prog, width=HELP_WIDTH, max_help_position=30)


# ---------------------------------------------------------------------------------------------- argument types
def _whole_number(low: int, high: int):
    """An argparse type: a whole number in [low, high], with a message naming the value and what is allowed."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed; allowed: a whole number from {low} to {high}")
        return value

    parse.__name__ = "whole number"
    return parse


def _vary_item(text: str) -> tuple[str, list]:
    """An argparse type for --vary: 'LEVER=V1,V2,...' -> (lever, [values]) checked against the lever's range."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name or not values.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed; allowed: LEVER=V1,V2,... for example frontline_care=0.2,0.5,0.8")
    try:
        name = match_name(name, list(LEVERS_BY_NAME) + list(SETTINGS_BY_NAME), "sweep", value=values)
        spec = LEVERS_BY_NAME.get(name) or SETTINGS_BY_NAME.get(name)
        parsed = [spec.check(raw.strip() if spec.choices else _number(raw.strip(), spec), "sweep")
                  for raw in values.split(",")]
    except LoyaltyLabError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return name, parsed


def _number(raw: str, spec):
    try:
        value = float(raw)
    except ValueError:
        raise InvalidParameter("sweep", spec.name, raw, spec.allowed()) from None
    return int(value) if spec.integer and value.is_integer() else value


# ---------------------------------------------------------------------------------------------- shared checks
def _scenario(name: str) -> tuple[str, dict]:
    """(the market as the model takes it, the validated scenario); names match whatever their case.

    Raises UnknownScenario with the list of markets and "did you mean"; a strategy file or a folder given where
    the market belongs is named as such (the market was forgotten).
    """
    market = resolve_market(name)
    return market, load_scenario(market)


def _strategy(value: str | None) -> tuple[Strategy, str]:
    """A preset name or a YAML strategy file -> (Strategy, a name for it)."""
    if value is None:
        return Strategy(), "balanced"
    if value.lower() in PRESETS:
        return Strategy.preset(value), value.lower()
    path = Path(value)
    if not path.is_file():
        raise BadInput("--strategy", value, "is neither a preset nor a file",
                       f"a YAML strategy file or one of {', '.join(PRESETS)}")
    return Strategy.from_file(path), path.stem


def _output(args, default: str):
    """The command's output folder, built aside and renamed into place at the end (see `atomic_folder`)."""
    return atomic_folder(args.out or default, force=args.force, note=f"written by {PROG} {args.command}")


def _progress() -> bool:
    """Progress bars only on an interactive terminal, so logs and pipes stay clean."""
    return sys.stderr.isatty()


def _wrote(folder, paths) -> None:
    names = ", ".join(Path(p).name for p in paths)
    print(f"\nWrote to {folder}/: {names}")


def _team_paths(items: list[str]) -> tuple[list[Path], list[str]]:
    """Team files as given; a folder stands for every .yaml/.yml file in it (sorted). Also the other files of those
    folders, which are ignored (a team's `red.yaml.txt` must not vanish without a word)."""
    paths, ignored = [], []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            found = [p for p in files if p.suffix.lower() in (".yaml", ".yml")]
            if not found:
                raise BadInput("TEAM_FILES", item, "is a folder that holds no .yaml file",
                               "strategy files or folders of them")
            paths += found
            ignored += [str(p) for p in files if p not in found]
        else:
            paths.append(path)
    return paths, ignored


def _fill(text: str) -> str:
    """Re-wrap each paragraph to the help width; paragraphs with indented lines (lists) are kept as written."""
    paragraphs = textwrap.dedent(text).strip().split("\n\n")
    return "\n\n".join(p if any(line.startswith(" ") for line in p.splitlines()) else textwrap.fill(" ".join(p.split()), HELP_WIDTH)
                       for p in paragraphs)


def _sub(subparsers, name: str, summary: str, description: str, examples: str):
    return subparsers.add_parser(
        name, help=summary, description=_fill(description),
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip(), "  "), formatter_class=_formatter)


def _add_size(parser, seeds_default=None):
    parser.add_argument("--customers", type=_whole_number(10, 1_000_000), default=2000, metavar="N",
                        help="customers at the start of each market (default: 2000)")
    parser.add_argument("--months", type=_whole_number(1, 1200), default=36, metavar="M",
                        help="months to simulate (default: 36)")
    if seeds_default is not None:
        parser.add_argument("--seeds", type=_whole_number(1, 1000), default=seeds_default, metavar="K",
                            help=f"markets (seeds) per setting or team (default: {seeds_default})")
        parser.add_argument("--first-seed", type=_whole_number(0, 2**31 - 1), default=1, metavar="S",
                            help="first seed; the seeds are S, S+1, ..., S+K-1 (default: 1)")
        parser.add_argument("--workers", type=_whole_number(1, 64), default=2, metavar="W",
                            help="processes to run in parallel; results do not depend on it (default: 2)")


def _add_out(parser, default: str):
    parser.add_argument("--out", metavar="DIR", help=f"output folder (default: {default})")
    parser.add_argument("--force", action="store_true",
                        help="replace an earlier output folder entirely (none of its files is kept)")


# ---------------------------------------------------------------------------------------------- the commands
COMMANDS = []  # functions that each add one subcommand, in the order of the help


def command(add):
    """Register a function that adds one subcommand (its parser and handler) to the tool."""
    COMMANDS.append(add)
    return add


# ---- scenarios
@command
def add_scenarios(subparsers):
    p = _sub(subparsers, "scenarios", "list the markets with a one-line description each",
             "List the built-in markets (scenarios) with their competitive intensity and a one-line description.",
             f"{PROG} scenarios")
    p.set_defaults(handler=cmd_scenarios)


def cmd_scenarios(args) -> int:
    """Print every market with its competitive intensity and a one-line description."""
    rows = [load_scenario(name) for name in list_scenarios()]
    width = max(len(r["name"]) for r in rows)
    print(f"{'scenario':<{width}}  competition  description")
    for r in rows:
        print(f"{r['name']:<{width}}  {r['competitive_intensity']:>11.2f}  {r['description']}")
    print(f"\nTry: {PROG} run {rows[0]['name']} --strategy balanced")
    return 0


# ---- run
@command
def add_run(subparsers):
    p = _sub(subparsers, "run", "one run of a market under a strategy: summary, monthly CSV, figures", """
        Run one simulated market under one strategy. Prints a summary table and writes to the output folder:
        monthly.csv (one row a month), customers.csv (one row per customer at the end), strategy.yaml
        (the strategy used) and figures: dashboard.png, churn_by_cause.png, whale_curve.png, profit.png.
        The same seed gives the same run. Market names match whatever their case.""", f"""
        {PROG} run telecom
        {PROG} run retail_bank --strategy bonding --months 60 --seed 7
        {PROG} run utility --strategy my_team.yaml --customers 5000 --force""")
    p.add_argument("scenario", metavar="SCENARIO", help=f"a market ({', '.join(list_scenarios())}) or a scenario YAML file")
    p.add_argument("--strategy", metavar="FILE|PRESET",
                   help=f"a YAML strategy file or a preset ({', '.join(PRESETS)}); default: balanced")
    _add_size(p)
    p.add_argument("--seed", type=_whole_number(0, 2**31 - 1), default=1, metavar="S", help="the market's seed (default: 1)")
    _add_out(p, "run-SCENARIO")
    p.set_defaults(handler=cmd_run)


def cmd_run(args) -> int:
    """One run: summary on screen; monthly CSV, customer CSV, strategy file and figures in the output folder."""
    from tqdm.auto import tqdm

    from .model import LoyaltyMarket

    market, scenario = _scenario(args.scenario)
    strategy, strategy_name = _strategy(args.strategy)
    target = args.out or f"run-{scenario['name']}"
    with _output(args, target) as folder:
        model = LoyaltyMarket(scenario=market, strategy=strategy, n_customers=args.customers, seed=args.seed)
        for _ in tqdm(range(args.months), desc="months", unit="month", disable=not _progress(), file=sys.stderr):
            model.step()
        monthly = model.datacollector.get_model_vars_dataframe()
        written = [folder / "monthly.csv", folder / "customers.csv", folder / "strategy.yaml"]
        monthly.to_csv(written[0], index=False)
        customers = model.customer_table()
        customers.to_csv(written[1], index=False)
        strategy.to_file(written[2])
        written += _save_run_figures(model, monthly, customers, folder)
    print(run_summary_text(model.summary(), strategy_name, args))  # after writing: a closed pipe loses no file
    _wrote(target, written)
    return 0


def _save_run_figures(model, monthly, customers, folder: Path) -> list[Path]:
    """The run report (`simulations.plots.dashboard_figure`) and three single figures, as PNG files."""
    import matplotlib.pyplot as plt

    from . import plots

    figures = {"dashboard.png": plots.dashboard_figure(monthly)}
    for name, draw, data in (("churn_by_cause.png", plots.plot_churn_shares, model.totals["churned"]),
                             ("whale_curve.png", plots.plot_whale_curve, customers["monthly_profit"]),
                             ("profit.png", plots.plot_profit, monthly)):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        draw(data, ax=ax)
        fig.tight_layout()
        figures[name] = fig
    for name, fig in figures.items():
        fig.savefig(folder / name, dpi=120)
        plt.close(fig)
    return [folder / name for name in figures]


def run_summary_text(summary: dict, strategy_name: str, args) -> str:
    """The run's headline outcomes as an aligned two-column table."""
    from .plots import CAUSE_LABELS

    rows = [("active customers at the end", f"{summary['active']:,}"),
            ("ever acquired", f"{summary['acquired']:,}"),
            ("12-month retention", f"{summary['retention_12m']:.1%}"),
            ("mean satisfaction", f"{summary['mean_satisfaction']:.3f}"),
            ("net promoter score", f"{summary['nps']:+.1f}"),
            ("revenue", f"{summary['revenue']:,.0f}"),
            ("cost", f"{summary['cost']:,.0f}"),
            ("profit", f"{summary['profit']:,.0f}"),
            ("customers lost", f"{sum(summary['churned'].values()):,}")]
    rows += [(f"  {CAUSE_LABELS[c]}", f"{n:,}") for c, n in summary["churned"].items()]
    rows += [("customers by tier at the end", "")] + [(f"  {t.capitalize()}", f"{n:,}") for t, n in summary["tiers"].items()]
    width = max(len(r[0]) for r in rows)
    head = (f"Run: {summary['scenario']}, strategy {strategy_name}, {args.customers:,} customers, "
            f"{summary['months']} months, seed {args.seed}")
    return "\n".join([head, ""] + [f"  {k:<{width}}  {v:>12}" for k, v in rows])


# ---- new-strategy
@command
def add_new_strategy(subparsers):
    presets = "\n".join(textwrap.fill(text, HELP_WIDTH, initial_indent=f"  {name:<9} ", subsequent_indent=" " * 12)
                        for name, text in PRESET_DESCRIPTIONS.items())
    p = _sub(subparsers, "new-strategy", "write a commented strategy file for a team to edit", textwrap.dedent("""
        Write a strategy template: every lever with its allowed range and what it means, as comments.
        Teams edit the values and hand the file in. A strategy file is YAML data, never code.""").strip()
             + "\n\nPresets to start from:\n" + presets, f"""
        {PROG} new-strategy team_red.yaml
        {PROG} new-strategy team_blue.yaml --preset bonding
        {PROG} new-strategy team_red.yaml --force      # overwrite""")
    p.add_argument("file", metavar="FILE", help="the YAML file to write")
    p.add_argument("--preset", choices=list(PRESETS), default="balanced", help="values to start from (default: balanced)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(handler=cmd_new_strategy)


def cmd_new_strategy(args) -> int:
    """Write a commented strategy template (every lever, its range and meaning)."""
    path = Path(args.file)
    if path.exists() and not args.force:
        raise BadInput("FILE", args.file, "already exists", "a new file name, or add --force to overwrite it")
    if not path.parent.is_dir():
        raise BadInput("FILE", args.file, f"is in a folder that does not exist ({str(path.parent)!r})",
                       "a file in an existing folder")
    header = (f"# Your team's strategy for Loyalty Lab. Change the numbers after the colons; keep the names.\n"
              f"# Lines starting with # are comments. Check the file with: {PROG} check {path.name}\n")
    atomic_write_text(path, header + Strategy.preset(args.preset).to_yaml())
    print(f"Wrote {path} (starting from the {args.preset} preset). Edit the values, then check it:\n"
          f"  {PROG} check {path}")
    return 0


# ---- check
@command
def add_check(subparsers):
    p = _sub(subparsers, "check", "check strategy files without running anything: every error of every file", """
        Check teams' strategy files in a second, without running a market: every error of every file is listed
        (unknown levers with "did you mean", values out of range, a lever given twice, an empty file), so a team
        fixes its file in one go. A folder stands for every .yaml file in it. Writes nothing.
        Exit code 0 if every file is good, 2 if any file has an error.""", f"""
        {PROG} check red.yaml
        {PROG} check teams/
        {PROG} check teams/*.yaml""")
    p.add_argument("team_files", nargs="+", metavar="TEAM_FILES", help="YAML strategy files, or folders of them")
    p.set_defaults(handler=cmd_check)


def cmd_check(args) -> int:
    """Read every strategy file; print 'ok' or each of its errors; exit 2 if any file is bad."""
    paths, ignored = _team_paths(args.team_files)
    bad = 0
    for path in paths:
        try:
            Strategy.from_file(path)
        except LoyaltyLabError as err:
            bad += 1
            problems = err.errors
            print(f"{path}: {len(problems)} error{'s' if len(problems) > 1 else ''}")
            for problem in problems:
                print(f"  - {str(problem).removeprefix(f'{path}: ')}")
        else:
            print(f"{path}: ok")
    if ignored:
        print(f"Ignored (not .yaml or .yml): {', '.join(ignored)}.")
    good = len(paths) - bad
    print(f"\n{good} of {len(paths)} file{'s' if len(paths) > 1 else ''} ok."
          + (" Fix the errors above, then check again." if bad else ""))
    return 2 if bad else 0


# ---- grade
@command
def add_grade(subparsers):
    p = _sub(subparsers, "grade", "grade a strategy file against a course challenge", """
        Grade a strategy against one of the course's challenges: the strategy is run on the challenge's simulated
        customers and compared with the challenge's goal; the feedback is the same as in a notebook.
        Exit code 0 if the strategy passes, 1 if it does not, 2 on bad input.""", f"""
        {PROG} grade ch01_first_look my_strategy.yaml
        {PROG} grade ch06_stop_the_leak team_red.yaml --customers 1000""")
    p.add_argument("challenge", metavar="CHALLENGE", help="a challenge id, e.g. ch03_tiering")
    p.add_argument("file", metavar="FILE", help="a YAML strategy file (or a preset name)")
    p.add_argument("--customers", type=_whole_number(10, 1_000_000), default=None, metavar="N",
                   help="customers per market (default: the challenge's own)")
    p.set_defaults(handler=cmd_grade)


def cmd_grade(args) -> int:
    """Grade a strategy against a challenge; exit 0 on pass, 1 on fail."""
    try:
        from exercises import grade, list_challenges
    except (ImportError, AttributeError):
        raise BadInput("CHALLENGE", args.challenge, "cannot be graded: the course challenges (exercises.challenges) are "
                       "not available in this installation of Loyalty Lab", "an installation with the exercises") from None
    from exercises.challenges import CHALLENGE_ALIASES

    known = list_challenges()
    if args.challenge not in known and args.challenge not in CHALLENGE_ALIASES:  # a former id still grades
        raise BadInput("CHALLENGE", args.challenge, f"is not a challenge{did_you_mean(args.challenge, known)}",
                       ", ".join(known))
    path = Path(args.file)
    if not path.is_file() and args.file not in PRESETS:
        raise BadInput("FILE", args.file, "is not a file", f"a YAML strategy file (write one with '{PROG} "
                       f"new-strategy FILE') or a preset ({', '.join(PRESETS)})")
    result = grade(args.challenge, str(path) if path.is_file() else args.file, n_customers=args.customers,
                   progress=_progress())
    print(result.to_text())
    return 0 if result.passed else 1


# ---- sweep
@command
def add_sweep(subparsers):
    levers = ", ".join(LEVERS_BY_NAME)
    p = _sub(subparsers, "sweep", "a grid of runs over one or more levers, several seeds each", f"""
        Run every combination of the values given with --vary, each on K seeds, in parallel processes.
        A name to vary is a strategy lever ({levers})
        or a scenario setting (e.g. competitive_intensity). Writes sweep.csv (tidy: one row per run),
        sweep_summary.csv (mean and standard deviation over seeds) and sweep.png (each outcome against the
        first varied lever, error bars = ± one standard deviation over seeds).""", f"""
        {PROG} sweep telecom --vary frontline_care=0.2,0.4,0.6,0.8
        {PROG} sweep telecom --vary frontline_care=0.2,0.8 \\
            --vary loyalty_programme=none,membership_club --seeds 5
        {PROG} sweep utility --vary competitive_intensity=0,0.5,1 \\
            --strategy neglect""")
    p.add_argument("scenario", metavar="SCENARIO", help="a market or a scenario YAML file")
    p.add_argument("--vary", type=_vary_item, action="append", required=True, metavar="LEVER=V1,V2,...",
                   help="a lever (or scenario setting) and its values; repeat for a grid")
    p.add_argument("--strategy", metavar="FILE|PRESET", help="the strategy the varied levers change (default: balanced)")
    _add_size(p, seeds_default=3)
    _add_out(p, "sweep-SCENARIO")
    p.set_defaults(handler=cmd_sweep)


def cmd_sweep(args) -> int:
    """A grid of runs: tidy CSV, summary CSV and a figure with the seed spread."""
    from . import workshop

    vary = {}
    for name, values in args.vary:
        if name in vary:
            raise BadInput("--vary", name, "is given twice", "each lever once, values separated by commas")
        vary[name] = values
    market, scenario = _scenario(args.scenario)
    strategy, strategy_name = _strategy(args.strategy)
    seeds = workshop.seed_list(args.seeds, args.first_seed)
    target = args.out or f"sweep-{scenario['name']}"
    with _output(args, target) as folder:
        df = workshop.sweep(market, vary, seeds=seeds, workers=args.workers, n_customers=args.customers,
                            months=args.months, progress=_progress(), strategy=strategy)
        written = workshop.save_sweep(df, folder)
    print(f"Sweep on {scenario['name']} from the {strategy_name} strategy: {len(df)} runs "
          f"({len(df) // len(seeds)} settings x {len(seeds)} seeds), {args.customers:,} customers, {args.months} months")
    print("Mean over seeds (± one standard deviation):\n")
    print(sweep_text(workshop.summarise_sweep(df, list(vary)), list(vary)))
    _wrote(target, written)
    return 0


def sweep_text(table, varied: list[str]) -> str:
    """The sweep's summary (mean ± sd over seeds) as a plain-text table."""
    import pandas as pd

    shown = table[varied].copy()
    formats = {"profit": "{:,.0f}", "retention_12m": "{:.1%}", "mean_satisfaction": "{:.3f}", "nps": "{:+.1f}"}
    for outcome, f in formats.items():
        shown[outcome] = [f"{f.format(m)} ± {f.format(s).lstrip('+')}" for m, s in zip(table[outcome], table[f"{outcome}_sd"])]
    return pd.DataFrame(shown).to_string(index=False)


# ---- tournament
@command
def add_tournament(subparsers):
    p = _sub(subparsers, "tournament", "every team's strategy on the same markets: leaderboard and debriefs", """
        Run every team's strategy file on the same K markets (the same seeds: the same starting customers and
        social network for every team, so differences come from the strategies). Prints the leaderboard and
        writes leaderboard.csv, leaderboard.md, leaderboard.png (titled with market, round and seeds), runs.csv
        (every run), left_out.csv, and a one-page debrief per team (debrief_TEAM.md and debrief_TEAM.png).
        A team is named after its file. A malformed or out-of-range file is reported with every error in it;
        the other teams play on. Check files beforehand with 'loyalty-lab check'.""" + f"""

        Composite {SCORE_FORMULAS['rank']}.

        With --score minmax, each outcome is instead rescaled to 0-100 between the lowest and the highest team,
        so one extreme team squeezes the others together.""", f"""
        {PROG} tournament telecom teams/*.yaml
        {PROG} tournament telecom teams/ --seeds 5 --workers 2 --out round1
        {PROG} tournament telecom teams/ --first-seed 101 --out round2
        {PROG} tournament coffee_chain red.yaml blue.yaml --customers 1000""")
    p.add_argument("scenario", metavar="SCENARIO", help="a market or a scenario YAML file (it comes first)")
    p.add_argument("team_files", nargs="+", metavar="TEAM_FILES",
                   help="teams' YAML strategy files, or folders of them")
    _add_size(p, seeds_default=5)
    p.add_argument("--score", choices=SCORE_METHODS, default="rank",
                   help="how outcomes become points: rank (default) or minmax")
    p.add_argument("--round", metavar="LABEL", dest="round_label",
                   help="the round's name in the leaderboard's title (default: the output folder's name)")
    _add_out(p, "tournament-SCENARIO")
    p.set_defaults(handler=cmd_tournament)


def cmd_tournament(args) -> int:
    """Every team on the same seeds: leaderboard on screen, CSV and PNG; a debrief per team; who was left out."""
    from . import workshop

    market, scenario = _scenario(args.scenario)
    teams, ignored = _team_paths(args.team_files)
    seeds = workshop.seed_list(args.seeds, args.first_seed)
    target = args.out or f"tournament-{scenario['name']}"
    with _output(args, target) as folder:
        result = workshop.tournament(market, teams, seeds=seeds, n_customers=args.customers, months=args.months,
                                     workers=args.workers, progress=_progress(), score=args.score,
                                     round_label=args.round_label or Path(target).name)
        written = workshop.save_tournament(result, folder)
    print(result.to_text())
    if ignored:
        print(f"Ignored (not .yaml or .yml): {', '.join(ignored)}.")
    _wrote(target, written)
    return 0


# ---- game (issue 8)
@command
def add_game(subparsers):
    p = _sub(subparsers, "game", "teams' firms compete for the same customers over rounds: new, play, status", """
        A game is ONE simulated market in which every team runs a firm: a customer belongs to one firm at a time,
        a rival's lure is that rival's actual offer, and a switch is one team's loss and another's gain. It is
        played in rounds: teams hand in strategy files between rounds, and customers, money and history carry on.
        The game folder holds game.json (settings and every round's strategies: replaying it gives identical
        results), standings.csv, standings.png (market share and cumulative profit by month, rounds marked) and
        per round the standings and one debrief per team. The folder is rewritten atomically: an interrupted
        'play' leaves it exactly as it was, and the round can be played again.""", f"""
        {PROG} game new telecom --out game1 --rounds 4 --months-per-round 6
        {PROG} game play game1 teams/
        {PROG} game play game1 teams/red.yaml teams/blue.yaml
        {PROG} game status game1""")
    steps = p.add_subparsers(dest="game_command", metavar="STEP", required=True, parser_class=_Parser, title="steps")
    new = _sub(steps, "new", "start a game folder", "Start a game: the market, rounds, months per round, customers and seed.",
               f"{PROG} game new telecom --out game1 --rounds 4 --months-per-round 6 --customers 2000 --seed 1")
    new.add_argument("scenario", metavar="MARKET", help="a market or a scenario YAML file")
    new.add_argument("--out", required=True, metavar="DIR", help="the game folder to create")
    new.add_argument("--rounds", type=_whole_number(*LIMITS["rounds"]), default=4, metavar="N", help="rounds (default: 4)")
    new.add_argument("--months-per-round", type=_whole_number(*LIMITS["months_per_round"]), default=6, metavar="M",
                     help="months each round runs (default: 6)")
    new.add_argument("--customers", type=_whole_number(*LIMITS["n_customers"]), default=DEFAULT_CUSTOMERS, metavar="N",
                     help=f"customers at the start, shared equally among the teams (default: {DEFAULT_CUSTOMERS})")
    new.add_argument("--seed", type=_whole_number(*LIMITS["seed"]), default=1, metavar="S", help="the market's seed (default: 1)")
    new.add_argument("--force", action="store_true", help="replace an earlier game folder")
    new.set_defaults(handler=cmd_game_new)
    play = _sub(steps, "play", "play the next round with the teams' files",
                "Play the next round. A team is named after its file's stem; the first round's files make the teams. "
                "A team that hands in nothing, or a file with errors, keeps its last strategy (balanced in round 1) "
                "and is told why.", f"{PROG} game play game1 teams/")
    play.add_argument("folder", metavar="DIR", help="the game folder")
    play.add_argument("team_files", nargs="*", metavar="TEAM_FILES", help="teams' YAML strategy files, or folders of them")
    play.add_argument("--late-joins", action="store_true",
                      help="after round 1, a file naming a new team lets it join: it enters the market this round as a "
                           "newcomer firm with no customers, and the score takes every team's profit per round played")
    play.set_defaults(handler=cmd_game_play)
    status = _sub(steps, "status", "where a game stands", "Show the settings, the rounds played and the standings.",
                  f"{PROG} game status game1")
    status.add_argument("folder", metavar="DIR", help="the game folder")
    status.set_defaults(handler=cmd_game_status)


def cmd_game_new(args) -> int:
    market, _ = _scenario(args.scenario)
    game = Game(GameSettings(market, args.rounds, args.months_per_round, args.customers, args.seed))
    with atomic_folder(args.out, force=args.force, note=f"written by {PROG} game") as folder:
        save_game(game, folder)
    print(f"New game in {args.out}/: {market}, {args.rounds} rounds of {args.months_per_round} months, "
          f"{args.customers:,} customers, seed {args.seed}.\nNext: {PROG} game play {args.out} TEAM_FILES")
    return 0


def cmd_game_play(args) -> int:
    game = load_game(args.folder)
    if game.finished:
        raise BadInput("DIR", args.folder, f"is a finished game ({game.rounds_played} of {game.settings.rounds} rounds)",
                       "a game with rounds left (start another with 'loyalty-lab game new')")
    paths, ignored = _team_paths(args.team_files) if args.team_files else ([], [])
    if not paths and not game.teams:
        raise BadInput("TEAM_FILES", "", "is empty before the first round", "the teams' strategy files: they make the teams")
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:  # a mistyped path must not become a new team
        raise BadInput("TEAM_FILES", missing[0], "does not exist", "existing strategy files or folders of them")
    submissions = {}
    for path in paths:
        team = path.stem
        if game.teams and team not in game.teams and args.late_joins and game.rounds_played:
            try:
                game.add_team(team)  # a newcomer firm from this round on
            except LoyaltyLabError as err:
                raise BadInput("TEAM_FILES", str(path), f"cannot join as a new team ({err})",
                               "a file named after a new team, different from the game's teams") from None
        if game.teams and team not in game.teams:
            raise BadInput("TEAM_FILES", str(path), f"names team {team!r}, which is not in this game",
                           f"files named after the game's teams: {', '.join(game.teams)} (or --late-joins, after "
                           "round 1, to let a new team enter as a newcomer firm)")
        try:
            submissions[team] = Strategy.from_file(path)
        except LoyaltyLabError as err:
            submissions[team] = Rejected("; ".join(str(e) for e in err.errors))
    result = game.play_round(submissions)
    with atomic_folder(args.folder, force=True, note=f"written by {PROG} game") as folder:
        save_game(game, folder)
    print(f"Round {result.round} of {game.settings.rounds} played on {game.settings.market}.\n")
    print(_standings_text(game))
    for team, note in result.notes.items():
        print(f"  {team}: {note}")
    if ignored:
        print(f"Ignored (not .yaml or .yml): {', '.join(ignored)}.")
    print(f"\nWrote {args.folder}/: game.json, standings.csv, standings.png, round-{result.round}/ (standings, debriefs)")
    return 0


def cmd_game_status(args) -> int:
    game = load_game(args.folder)
    s = game.settings
    print(f"Game in {args.folder}/: {s.market}, {game.rounds_played} of {s.rounds} rounds played "
          f"({s.months_per_round} months each), {s.n_customers:,} customers, seed {s.seed}.")
    print(f"Teams: {', '.join(game.teams) if game.teams else 'none yet (the first round makes them)'}\n")
    if game.results:
        print(_standings_text(game))
    return 0


def _standings_text(game) -> str:
    board = game.standings()
    shown = board.assign(score=board["score"].map("{:.1f}".format), market_share=board["market_share"].map("{:.1%}".format),
                         profit=board["profit"].map("{:,.0f}".format), retention_12m=board["retention_12m"].map("{:.0%}".format),
                         mean_satisfaction=board["mean_satisfaction"].map("{:.2f}".format), nps=board["nps"].map("{:+.0f}".format))
    return shown[["rank", "team", "score", "market_share", "profit", "retention_12m", "mean_satisfaction", "nps",
                  "won_from_rivals", "lost_to_rivals"] + (["rounds_played"] if "rounds_played" in board else [])
                 ].to_string(index=False)


# ---- sensitivity (issue 9)
@command
def add_sensitivity(subparsers):
    from . import sensitivity

    def samples(text: str) -> int:
        try:
            return sensitivity.check_samples(int(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed; allowed: {sensitivity.SAMPLES_ALLOWED}") from None

    p = _sub(subparsers, "sensitivity", "Sobol indices: which levers move an outcome, runs spread over Dask", """
        Global sensitivity analysis: vary the chosen levers (or numeric scenario settings) together over their
        whole allowed ranges, or over name=low:high, and measure how much of an outcome's variance each one
        explains alone (first-order Sobol index S1) and with its interactions (total index ST), with SALib.
        The model runs N x (levers + 2) times, each run with its own seed derived from --seed and its index,
        so the indices do not depend on where the runs happen: a local Dask cluster of --workers processes
        (0: in this process), or a running Dask cluster given by --scheduler (see the README). Writes
        sensitivity.csv (lever, outcome, S1, S1_conf, ST, ST_conf) and sensitivity.png.

        An outcome is any number a run reports, e.g. profit, retention_12m, mean_satisfaction, nps,
        churned_competitor or profit_lead (a wrong name lists them all).""", f"""
        {PROG} sensitivity telecom --levers frontline_care,price_index,cross_sell
        {PROG} sensitivity telecom --levers frontline_care,price_index=0.9:1.1 \\
            --outcome profit,retention_12m --samples 128 --workers 2
        {PROG} sensitivity utility --levers product_quality,price_index \\
            --outcome retention_12m --scheduler tcp://127.0.0.1:8786""")
    p.add_argument("scenario", metavar="MARKET", help="a market or a scenario YAML file")
    p.add_argument("--levers", required=True, metavar="A,B,...",
                   help="two or more levers or numeric scenario settings, each optionally name=low:high")
    p.add_argument("--outcome", default="profit", metavar="NAME[,NAME]", help="outcome(s) to explain (default: profit)")
    p.add_argument("--samples", type=samples, default=sensitivity.DEFAULT_SAMPLES, metavar="N",
                   help=f"Sobol' samples, {sensitivity.SAMPLES_ALLOWED} (default: {sensitivity.DEFAULT_SAMPLES})")
    p.add_argument("--seed", type=_whole_number(0, 2**31 - 1), default=1, metavar="S", help="the analysis seed (default: 1)")
    p.add_argument("--customers", type=_whole_number(10, 1_000_000), default=sensitivity.DEFAULT_CUSTOMERS, metavar="N",
                   help=f"customers in each simulated market (default: {sensitivity.DEFAULT_CUSTOMERS})")
    p.add_argument("--months", type=_whole_number(1, 1200), default=sensitivity.DEFAULT_MONTHS, metavar="M",
                   help=f"months of each run (default: {sensitivity.DEFAULT_MONTHS})")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--workers", type=_whole_number(0, sensitivity.MAX_WORKERS), default=None, metavar="K",
                   help="local worker processes when no --scheduler is given (default: the core count; 0: no Dask)")
    _add_out(p, "sensitivity-MARKET")
    p.set_defaults(handler=cmd_sensitivity)


def cmd_sensitivity(args) -> int:
    """Sobol indices of outcomes to levers, the model runs on Dask: CSV, bar chart and a table on screen."""
    import time

    from . import sensitivity

    market, scenario = _scenario(args.scenario)
    factors = sensitivity.parse_factors(args.levers)
    outcomes = sensitivity.check_outcomes([name.strip() for name in args.outcome.split(",")])
    folder = sensitivity.check_output_folder(args.out or f"sensitivity-{scenario['name']}", args.force)
    runs = args.samples * (len(factors) + 2)
    workers = args.workers if args.workers is not None else os.cpu_count() or 1
    where = (f"on the Dask cluster at {args.scheduler}" if args.scheduler else "in this process" if workers == 0
             else f"on a local Dask cluster of {workers} worker process{'es' if workers > 1 else ''}")
    start = time.perf_counter()
    table = sensitivity.sobol_indices(market, factors, outcomes, samples=args.samples, seed=args.seed,
                                      n_customers=args.customers, months=args.months, scheduler=args.scheduler,
                                      workers=args.workers, progress=_progress())
    elapsed = time.perf_counter() - start
    written = sensitivity.save_sensitivity(table, folder, force=args.force)
    print(f"Sobol indices on {scenario['name']}: {len(factors)} levers, N = {args.samples}, {runs:,} model runs "
          f"({args.customers:,} customers x {args.months} months, seed {args.seed})\n{where}, in {elapsed:.1f} s.")
    print("S1 = first-order index, ST = total index, ± = 95% confidence half-width:\n")
    print(sensitivity.indices_text(table))
    _wrote(folder, written)
    return 0


# ---- classroom (issue 11)
@command
def add_classroom(subparsers):
    p = _sub(subparsers, "classroom", "serve the live classroom: teams play from their browsers, the room watches", """
        Start the live classroom web app (uvicorn). Teams join a game with its code from their own browsers,
        hand in strategies and read their debriefs; the instructor plays the rounds from the console and the
        projector shows the market. Data lives in SQLite in the --data folder (a killed server loses nothing
        it acknowledged), or in PostgreSQL with --database-url for several app processes.

        The instructor's token is LOYALTY_LAB_INSTRUCTOR_TOKEN from the environment; without it the server
        makes one, keeps it in the data folder and prints it. Listen on 0.0.0.0 to reach the room's network.""", f"""
        {PROG} classroom
        {PROG} classroom --host 0.0.0.0 --port 8000 --data ~/workshop-data
        {PROG} classroom --database-url postgresql://loyalty@localhost/classroom""")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=_whole_number(1, 65535), default=8000, metavar="PORT", help="port (default: 8000)")
    p.add_argument("--data", default="classroom-data", metavar="DIR",
                   help="folder of the SQLite database and the install's secrets (default: ./classroom-data)")
    p.add_argument("--database-url", metavar="URL", help="a SQLAlchemy URL, e.g. postgresql://user@host/db "
                                                         "(default: SQLite in --data)")
    p.set_defaults(handler=cmd_classroom)


def cmd_classroom(args) -> int:
    """Serve the classroom until interrupted; prints where to open it and, if it made one, the instructor's token."""
    import uvicorn

    from classroom.app import create_app
    from classroom.settings import MONTH_PAUSE_ENV, MONTH_PAUSE_LIMIT, Settings

    try:
        settings = Settings(data_dir=Path(args.data).expanduser(), database_url=args.database_url)
        app = create_app(settings)
    except OSError as err:
        raise BadInput("--data", args.data, f"cannot be used ({err.strerror or err})", "a folder you can write to") from None
    except ValueError as err:  # a setting from the environment
        if MONTH_PAUSE_ENV not in str(err):
            raise
        raise BadInput(MONTH_PAUSE_ENV, os.environ.get(MONTH_PAUSE_ENV), "is not usable",
                       f"a number of seconds from 0 to {MONTH_PAUSE_LIMIT:g}") from None
    except Exception as err:  # a database that cannot be reached or opened: one line, not a traceback
        if type(err).__module__.startswith("sqlalchemy"):
            raise BadInput("--database-url", args.database_url or args.data, f"cannot be opened ({err.__class__.__name__})",
                           "a reachable database: sqlite:///FILE or postgresql://USER@HOST/DB") from None
        raise
    print(f"Loyalty Lab classroom on http://{args.host}:{args.port}/  (data: {settings.database_url.split('://')[0]}"
          f"{' in ' + str(settings.data_dir) if args.database_url is None else ''})")
    if settings.instructor_token_source == "data folder":
        print(f"Instructor token: {settings.instructor_token}  (kept in {settings.data_dir / 'instructor-token'}; "
              "set LOYALTY_LAB_INSTRUCTOR_TOKEN to choose your own)")
    sys.stdout.flush()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
# ---- calibrate (issue 9; hold-out, band and benchmark: issue 16)
@command
def add_calibrate(subparsers):
    from .calibration import CALIBRATED_SETTINGS, CURVE_FORMAT, PUBLISHED_CURVES

    p = _sub(subparsers, "calibrate", "fit a market to a real cohort retention curve and forecast its tail", textwrap.dedent(f"""
        Calibrate a market to an observed cohort retention curve (the share of a cohort of new customers still
        there after each period), then forecast the curve beyond the data, with a band for what the seeds and the
        fit leave uncertain, beside the benchmark: the shifted-beta-geometric (sBG) model of Fader & Hardie (2007)
        fitted to the same periods. The fit searches the scenario settings {', '.join(CALIBRATED_SETTINGS)}
        (see simulations.calibration) and takes one to a few minutes.

        --holdout K fits only the curve's first periods and keeps its last K periods back, then prints how far
        the model's and the sBG's forecasts miss them: the honest test of a forecast.

        Writes MARKET_calibrated.yaml (the fitted market as a scenario file, usable wherever a market is asked
        for) and calibration.png (observed, fitted and forecast curves, the band and the sBG).

        CURVE.csv may also name a published curve shipped with the package: {', '.join(PUBLISHED_CURVES)}
        (Fader & Hardie 2007, Table 1: yearly survival of two customer segments over 12 years).""").strip()
        + "\n\n" + CURVE_FORMAT, f"""
        {PROG} calibrate curve.csv
        {PROG} calibrate curve.csv --market retail_bank --out bank_fit --seed 7
        {PROG} calibrate fader_hardie_2007_regular --holdout 5
        {PROG} calibrate curve.csv --horizon 15 --force
        {PROG} calibrate fader_hardie_2007_regular --holdout 5 \\
            --settings {','.join(CALIBRATED_SETTINGS)},tenure_bonding
        {PROG} calibrate fader_hardie_2007_high_end --holdout 5 \\
            --market year_contract.yaml \\
            --settings {','.join(CALIBRATED_SETTINGS)},contract_lock_in""")
    p.add_argument("curve", metavar="CURVE.csv", help="the observed curve: period,survival rows (see above), or the "
                                                     "name of a published curve")
    p.add_argument("--market", default="telecom", metavar="MARKET",
                   help="the market to calibrate, or a scenario YAML file (default: telecom)")
    p.add_argument("--period-months", type=_whole_number(1, 24), default=12, metavar="M",
                   help="months per period of the curve (default: 12, yearly)")
    p.add_argument("--holdout", type=_whole_number(1, 47), default=None, metavar="K",
                   help="hold the curve's last K periods back: fit the rest, and print both models' errors on them "
                        "(at least 3 periods must be left to fit)")
    p.add_argument("--horizon", type=_whole_number(1, 50), default=None, metavar="P",
                   help="forecast up to period P (default: the curve's last period, or the last fitted one + 5 if "
                        "that is later)")
    p.add_argument("--seed", type=_whole_number(0, 2**31 - 2000), default=1, metavar="S",
                   help="the fit's seed (default: 1)")
    p.add_argument("--criterion", choices=("deviance", "rmse"), default="deviance",
                   help="what the fit minimises: deviance, how unlikely each period's leavers are (as the sBG is "
                        "fitted; weighs the late periods' churn), or rmse, the gap of the curves in points "
                        "(default: deviance)")
    p.add_argument("--settings", type=_setting_names, default=None, metavar="NAME[,NAME...]",
                   help="the scenario settings to fit, 1 to 4, comma-separated (default: "
                        f"{','.join(CALIBRATED_SETTINGS)}); tenure_bonding lets each customer's own risk of leaving "
                        "fall with tenure; contract_lock_in, in a market whose contracts run for a term "
                        "(contract_months in its scenario file), is how strongly they hold")
    _add_out(p, "calibrate-MARKET")
    p.set_defaults(handler=cmd_calibrate)


def _setting_names(text: str) -> list[str]:
    """--settings: comma-separated scenario setting names (checked, with did-you-mean, by the calibration)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _curve_argument(curve: str):
    """The observed curve and its name: a CSV file, or a published curve shipped with the package."""
    from . import calibration

    if not Path(curve).exists() and curve in calibration.PUBLISHED_CURVES:
        return calibration.published_curve(curve), f"{curve} (published; {calibration.PUBLISHED_CURVES[curve]})"
    return calibration.read_curve_csv(curve), Path(curve).name


def cmd_calibrate(args) -> int:
    """Fit a market to a curve file: the fitted settings, forecast, band, sBG and hold-out errors on screen;
    a scenario file and a figure."""
    import matplotlib.pyplot as plt

    from . import calibration

    market, scenario = _scenario(args.market)
    observed, source = _curve_argument(args.curve)
    periods = len(observed) - 1
    holdout = args.holdout or 0
    if holdout and periods - holdout < 3:
        raise BadInput("--holdout", holdout, f"leaves {periods - holdout} of the curve's {periods} periods to fit",
                       f"a whole number from 1 to {periods - 3} (at least 3 periods must be left to fit)"
                       if periods > 3 else "no hold-out: the curve has only 3 periods, all needed for the fit")
    fitted_periods = periods - holdout
    horizon = args.horizon or max(periods, fitted_periods + 5)
    if horizon < periods:
        raise BadInput("--horizon", horizon, f"ends before the curve's last period, {periods}",
                       f"a whole number from {periods} to 50")
    target = args.out or f"calibrate-{scenario['name']}"
    with _output(args, target) as folder:
        fit = calibration.fit_retention_curve(observed[:fitted_periods + 1], market, args.period_months, seed=args.seed,
                                              horizon=horizon, criterion=args.criterion, settings=args.settings,
                                              progress=_progress())
        name = f"{scenario['name']}_calibrated"
        written = [folder / f"{name}.yaml", folder / "calibration.png"]
        written[0].write_text(calibration.calibrated_scenario_yaml(fit, source, name), encoding="utf-8")
        fig, ax = plt.subplots(figsize=(7.2, 4.2))
        calibration.plot_calibration(fit, horizon, ax=ax, held_out=observed[fitted_periods + 1:])
        fig.tight_layout()
        fig.savefig(written[1], dpi=120)
        plt.close(fig)
    _print_calibration(fit, scenario, source, args, observed, fitted_periods, horizon)
    _wrote(target, written)
    return 0


def _print_calibration(fit, scenario, source, args, observed, fitted_periods, horizon) -> None:
    from . import calibration

    held = f", periods {fitted_periods + 1}-{len(observed) - 1} held out" if fitted_periods < len(observed) - 1 else ""
    print(f"Calibrated {scenario['name']} to {source} ({fitted_periods} periods of {args.period_months} months{held}, "
          f"seed {args.seed}) in {fit.seconds:.0f} s:")
    for key, value in fit.settings.items():
        print(f"  {key:<16} {value:.4g}   (was {scenario[key]:g})")
    alpha, beta = fit.sbg
    print(f"Fit error: {fit.rmse:.2f} percentage points (RMSE over periods 1-{fitted_periods}).")
    print(f"Benchmark: sBG (Fader & Hardie 2007) fitted to the same periods by maximum likelihood, alpha {alpha:.3f}, "
          f"beta {beta:.3f}.\n")
    forecast, (low, high), sbg = fit.predict(horizon), fit.band(horizon), fit.sbg_curve(horizon)
    print("period  observed   model   band          sBG")
    for period in range(horizon + 1):
        seen = f"{observed[period]:8.1%}" if period < len(observed) else " " * 8
        note = "  held out" if fitted_periods < period < len(observed) else ("  forecast" if period > fitted_periods else "")
        print(f"{period:>6}  {seen}  {forecast[period]:6.1%}  {low[period]:5.1%}-{high[period]:<6.1%}  "
              f"{sbg[period]:6.1%}{note}")
    if fitted_periods < len(observed) - 1:
        model = calibration.forecast_errors(forecast, observed, fitted_periods)
        benchmark = calibration.forecast_errors(sbg, observed, fitted_periods)
        print(f"\nForecast errors on the held-out periods {fitted_periods + 1}-{len(observed) - 1}, in percentage points:")
        print(f"  model  worst {model['worst']:.2f}  mean {model['mean']:.2f}")
        print(f"  sBG    worst {benchmark['worst']:.2f}  mean {benchmark['mean']:.2f}")


# ---- quizzes (issue 17)
@command
def add_quizzes(subparsers):
    from exercises.quiz_export import FORMATS

    p = _sub(subparsers, "quizzes", "export the chapter quiz banks for learning platforms (Moodle XML, QTI 2.1)", """
        The chapter quizzes, from the same banks as the book's (exercises/quizzes/chNN.yaml), for a learning
        platform. 'export --format moodle' writes chNN_moodle.xml (Moodle XML: one category per chapter,
        multichoice questions with feedback for every answer; a 'select all that apply' question gives its
        right answers equal shares of the mark and its wrong ones negative shares). 'export --format qti'
        writes chNN_qti.zip, an IMS QTI 2.1 content package (imsmanifest.xml and one assessmentItem per
        question) that Canvas, Blackboard, TAO and others import. Each file is replaced whole; a bad chapter
        or format writes nothing.""", f"""
        {PROG} quizzes export --format moodle --out lms
        {PROG} quizzes export --format qti --out lms --chapter ch03 ch04""")
    steps = p.add_subparsers(dest="quizzes_command", metavar="ACTION", required=True, parser_class=_Parser,
                             title="actions")
    export = _sub(steps, "export", "write the banks as Moodle XML or QTI 2.1 packages",
                  "Write every chapter's bank (or those named with --chapter) to DIR, one file per chapter.",
                  f"{PROG} quizzes export --format moodle --out lms --chapter ch01")
    export.add_argument("--format", required=True, metavar="FORMAT",
                        help=f"the platform's format: {' or '.join(FORMATS)}")
    export.add_argument("--out", required=True, metavar="DIR", help="the folder to write to (made if need be)")
    export.add_argument("--chapter", nargs="+", metavar="chNN", help="only these chapters (default: all)")
    export.set_defaults(handler=cmd_quizzes_export)


def cmd_quizzes_export(args) -> int:
    from exercises.quiz_export import export_quizzes

    written = export_quizzes(args.chapter, args.format.lower(), args.out)
    _wrote(args.out, written)
    return 0


# ---------------------------------------------------------------------------------------------- the parser
def build_parser() -> argparse.ArgumentParser:
    """The `loyalty-lab` parser with every registered subcommand."""
    parser = _Parser(prog=PROG, description=DESCRIPTION, formatter_class=_formatter,
                     epilog=f"examples:\n  {PROG} scenarios\n  {PROG} run telecom --strategy balanced\n"
                            f"  {PROG} check teams/")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser,
                                       title="commands")
    for add in COMMANDS:
        add(subparsers)
    return parser


def help_texts() -> dict[str, str]:
    """The help of the tool and of each command (the book's command-line appendix shows these)."""
    parser = build_parser()
    texts = {PROG: parser.format_help()}
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        texts[name] = sub.format_help()
    return texts


def action_help(command: str, action: str) -> str:
    """The help of one action of a command with actions (`game new`, `quizzes export`)."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    actions = next(a for a in commands.choices[command]._actions if isinstance(a, argparse._SubParsersAction))
    return actions.choices[action].format_help()


def main(argv=None) -> int:
    """Entry point of `loyalty-lab`; returns the exit code (0 ok, 1 challenge not passed, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.handler(args)
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2, message already printed)
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    except LoyaltyLabError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; no output folder was changed", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly, as shell tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as err:  # a file that cannot be written (read-only, full disk): one line, not a traceback
        print(f"{PROG}: error: {err.filename or 'a file'}: cannot be written ({err.strerror or err}); allowed: "
              "a place you can write to", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
