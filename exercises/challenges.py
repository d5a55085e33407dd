"""Strategy challenges: a learner's strategy against simulated customers, graded with feedback.

A challenge is a YAML file in `exercises/challenges/` (one per chapter) with the fields
    id, chapter, title, teaches            who it is and what the chapter it belongs to teaches
    scenario, scenario_overrides           the market (a built-in scenario and any settings changed)
    starting_strategy                      a preset name or a mapping of levers: the baseline
    levers (optional)                      the levers a learner may change; the others stay as the start has them
    rivals (optional)                      {name: strategy} of rival firms in the SAME market (`LoyaltyMarket(firms=)`):
                                           the learner's firm, named "you", competes with them for the same
                                           customers and is graded on its own outcomes (`outcomes(model, firm="you")`)
    goal: {description, conditions}        conditions like {metric: profit, relative_gain_at_least: 0.15};
                                           metrics in METRIC_LABELS, kinds in CONDITION_KINDS
    months, n_customers, seeds, hints      the run, the simulated customers (same seeds for both strategies)

    from exercises import grade
    result = grade("ch03_tiering", {"service_lead": 0.2, "service_platinum": 0.9})
    result.passed, result.score
    print(result.to_text())

The learner's strategy and the starting strategy run on the SAME seeds, so both meet identical customers;
outcomes are averaged over the seeds before they are compared.
"""

from __future__ import annotations

import html
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import ipywidgets as w

from simulations import LoyaltyMarket, Strategy, list_scenarios, load_scenario, rules
from simulations.i18n import format_number, gettext
from simulations.errors import BadFile, InvalidParameter, LoyaltyLabError, UnknownField
from simulations.firms import check_firm_names
from simulations.files import read_yaml
from simulations.metrics import outcomes
from simulations.parameters import LEVERS, LEVERS_BY_NAME
from simulations.plots import CAUSE_LABELS
from simulations.strategy import PRESETS
from simulations.widgets import lever_controls

CHALLENGE_DIR = Path(__file__).parent / "challenges"
CHALLENGE_FIELDS = ("id", "chapter", "title", "teaches", "scenario", "scenario_overrides", "starting_strategy", "levers",
                    "rivals", "goal", "months", "n_customers", "seeds", "hints")
OPTIONAL_FIELDS = ("scenario_overrides", "levers", "rivals")
CHAPTERS = tuple(f"ch{n:02d}" for n in range(1, 9))
LEARNER_FIRM = "you"  # the learner's firm in a challenge with rivals; it comes first in the market's order
#: How a goal condition compares an outcome: name -> (meaning, needs a baseline)
CONDITION_KINDS = {
    "at_least": "the outcome is at least this value",
    "at_most": "the outcome is at most this value",
    "gain_at_least": "the outcome exceeds the starting strategy's by at least this much (same units)",
    "relative_gain_at_least": "the outcome exceeds the starting strategy's by at least this share of it (0.15 = 15%)",
    "relative_cut_at_least": "the outcome is below the starting strategy's by at least this share of it (0.3 = 30%)",
}
METRIC_LABELS = {
    "profit": "profit over the run", "revenue": "revenue over the run", "cost": "cost over the run",
    "retention_12m": "12-month retention", "active": "active customers at the end", "acquired": "customers ever acquired",
    "mean_satisfaction": "mean satisfaction", "nps": "net promoter score", "mean_switching_cost": "mean switching cost",
    "mean_products": "products per customer", "churned": "customers lost (all causes)",
    "share_apostle": "share of apostles", "share_hostage": "share of hostages", "share_mercenary": "share of mercenaries",
    "share_defector": "share of defectors", "upper_rungs": "clients and advocates at the end",
    "advocates": "advocates at the end", "share_true_loyalty": "share with true loyalty (Dick & Basu)",
    "share_spurious_loyalty": "share with spurious loyalty (Dick & Basu)",
    **{f"churned_{c}": f"customers lost to {CAUSE_LABELS[c]}" for c in rules.CHURN_CAUSES},
    **{f"profit_{t}": f"profit from {t.capitalize()} customers" for t in rules.TIERS},
    **{f"tier_{t}": f"{t.capitalize()} customers at the end" for t in rules.TIERS},
    "market_share": "market share at the end", "won_from_rivals": "customers won from rivals",
    "lost_to_rivals": "customers lost to rivals",
}
SHARE_METRICS = {"retention_12m", "mean_satisfaction", "mean_switching_cost", "share_apostle", "share_hostage",
                 "share_mercenary", "share_defector", "share_true_loyalty", "share_spurious_loyalty", "market_share"}
RIVAL_METRICS = {"market_share", "won_from_rivals", "lost_to_rivals"}  # only a challenge with rivals measures these
TIER_PROFIT_METRICS = {f"profit_{t}" for t in rules.TIERS}  # a firm's books among rivals keep no profit by tier
LIMITS = {"months": (12, 120), "n_customers": (100, 20_000), "seeds": (1, 10)}
#: Former ids of challenges renamed when the chapters were numbered in reading order (issue 17): team files, saved
#: classroom games and scripts that name the old id keep working, and get the challenge under its new id.
CHALLENGE_ALIASES = {"ch07_capstone": "ch08_capstone", "ch08_compete": "ch07_compete"}


# ------------------------------------------------------------------ the reader's language (catalog `exercises`)
# The feedback is written in the language of the grading: `grade(..., language=)`, else simulations.i18n's
# (set_language or LOYALTY_LAB_LANGUAGE). A web server grading for several readers passes `language`; the context
# variable keeps one grading's language from leaking into another's.
_LANGUAGE: ContextVar[str | None] = ContextVar("grading_language", default=None)


def N_(message: str) -> str:
    """Mark a message for the catalog; it is translated where it is shown."""
    return message


def _t(message: str) -> str:
    """`message` in the grading's language (English where the catalog has no translation)."""
    return gettext(message, "exercises", language=_LANGUAGE.get())


def _english() -> bool:
    from simulations.i18n import check_language, get_language

    chosen = _LANGUAGE.get()
    return (check_language(chosen) if chosen else get_language()) == "en"


_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _local(text: str) -> str:
    """Numbers written by Python's English formats ('1,234.5', '+12.3%') in the language's notation."""
    if _english():
        return text

    def one(match):
        plain = match.group(0).replace(",", "")
        digits = len(plain.split(".")[1]) if "." in plain else 0
        return format_number(float(plain), digits, language=_LANGUAGE.get())

    return _NUMBER.sub(one, text)


def _label(metric: str) -> str:
    return _t(METRIC_LABELS[metric])


def _capital(text: str) -> str:
    """The first letter in capitals ('capitalize' in English, as before; other languages keep their own case)."""
    return text.capitalize() if _english() else text[:1].upper() + text[1:]


def _both(first: str, second: str | None = None) -> str:
    return first if second is None else _t("%(first)s and %(second)s") % {"first": first, "second": second}


# ------------------------------------------------------------------ loading and validating challenge files
def list_challenges() -> list[str]:
    """Ids of the challenges shipped with the course, sorted (one per chapter)."""
    return sorted(path.stem for path in CHALLENGE_DIR.glob("*.yaml"))


def challenge_path(challenge_id) -> Path:
    """The file of a challenge id (or of a former id, CHALLENGE_ALIASES), or `challenge_id` itself when it is a path."""
    path = CHALLENGE_DIR / f"{CHALLENGE_ALIASES.get(challenge_id, challenge_id)}.yaml"
    if path.exists():
        return path
    candidate = Path(str(challenge_id))
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    raise LoyaltyLabError(f"challenge: {challenge_id!r} is not a challenge; allowed: {', '.join(list_challenges())}")


CHALLENGE_PARTS = {"title": ("title",), "teaches": ("teaches",), "goal": ("goal", "description")}


def challenge_text(challenge: dict, part: str, language: str | None = None) -> str:
    """A challenge's title, what it teaches or its goal description in the reader's language (catalog `exercises`,
    the challenge's id as the message context); the YAML's English where the catalog has no translation."""
    from simulations.i18n import gettext

    text = challenge
    for key in CHALLENGE_PARTS[part]:
        text = text[key]
    return gettext(text, "exercises", context=challenge["id"], language=language)


def load_challenge(challenge_id) -> dict:
    """Read and validate a challenge (an id from `list_challenges()` or a path); raises LoyaltyLabError naming the problem."""
    path = challenge_path(challenge_id)
    data = read_yaml(path)
    return validate_challenge(data, source=f"challenge file {path.name}", expected_id=path.stem)


def validate_challenge(data, source="challenge", expected_id=None) -> dict:
    """Check every field of a challenge; returns it with the starting strategy as a `Strategy`.

    Raises:
        BadFile, UnknownField, InvalidParameter: naming the file, the field, the value and what is allowed.
    """
    if not isinstance(data, dict):
        raise BadFile(source, "expected a mapping of challenge fields")
    _check_fields(data, source)
    challenge = dict(data)
    challenge.setdefault("scenario_overrides", {})
    challenge.setdefault("levers", [lever.name for lever in LEVERS])
    challenge.setdefault("rivals", {})
    _check_identity(challenge, source, expected_id)
    _check_market(challenge, source)
    _check_run(challenge, source)
    _check_rivals(challenge, source)
    challenge["goal"] = _check_goal(challenge["goal"], source)
    _check_goal_fits_market(challenge, source)
    return challenge


def _check_fields(data, source):
    for name in data:
        if name not in CHALLENGE_FIELDS:
            raise UnknownField(source, str(name), CHALLENGE_FIELDS)
    for name in CHALLENGE_FIELDS:
        if name not in data and name not in OPTIONAL_FIELDS:
            raise InvalidParameter(source, name, None, "a value (the field is required)")


def _check_identity(challenge, source, expected_id):
    if expected_id is not None and challenge["id"] != expected_id:
        raise InvalidParameter(source, "id", challenge["id"], f"{expected_id!r}, the file's name")
    if challenge["chapter"] not in CHAPTERS:
        raise InvalidParameter(source, "chapter", challenge["chapter"], "one of " + ", ".join(CHAPTERS))
    for name in ("title", "teaches"):
        if not isinstance(challenge[name], str) or not challenge[name].strip():
            raise InvalidParameter(source, name, challenge[name], "a non-empty text")
    hints = challenge["hints"]
    if not isinstance(hints, list) or not hints or not all(isinstance(h, str) and h.strip() for h in hints):
        raise InvalidParameter(source, "hints", hints, "a list of at least one non-empty text")


def _check_market(challenge, source):
    if challenge["scenario"] not in list_scenarios():
        raise InvalidParameter(source, "scenario", challenge["scenario"], "one of " + ", ".join(list_scenarios()))
    overrides = challenge["scenario_overrides"]
    if not isinstance(overrides, dict):
        raise InvalidParameter(source, "scenario_overrides", overrides, "a mapping of scenario setting: value")
    _with_source(source, "scenario_overrides", lambda: load_scenario(challenge["scenario"], **overrides))
    challenge["starting_strategy"] = _with_source(source, "starting_strategy",
                                                  lambda: Strategy.coerce(challenge["starting_strategy"]))
    levers = challenge["levers"]
    if not isinstance(levers, list) or not levers or not all(name in LEVERS_BY_NAME for name in levers):
        raise InvalidParameter(source, "levers", levers, "a list of lever names from " + ", ".join(LEVERS_BY_NAME))


def _check_rivals(challenge, source):
    """Rivals: a mapping of firm name to strategy, one fewer than a market's most firms, none named like the learner's."""
    rivals = challenge["rivals"]
    if not isinstance(rivals, dict):
        raise InvalidParameter(source, "rivals", rivals, "a mapping of rival name: strategy (a preset name or levers)")
    if any(str(name).lower() == LEARNER_FIRM for name in rivals):
        raise InvalidParameter(source, "rivals", LEARNER_FIRM, f"any other name ({LEARNER_FIRM!r} is the learner's firm)")
    _with_source(source, "rivals", lambda: check_firm_names([LEARNER_FIRM, *rivals]))
    challenge["rivals"] = {name: _with_source(source, f"rivals.{name}", lambda s=strategy: Strategy.coerce(s))
                           for name, strategy in rivals.items()}


def _check_goal_fits_market(challenge, source):
    """Rival metrics need rivals; profit by tier needs a market of one firm (the books of rivals do not keep it)."""
    for condition in challenge["goal"]["conditions"]:
        metric = condition["metric"]
        if metric in RIVAL_METRICS and not challenge["rivals"]:
            raise InvalidParameter(source, "goal.conditions.metric", metric, "a metric of a challenge with rivals: "
                                   "add 'rivals:' or choose one of " + ", ".join(sorted(set(METRIC_LABELS) - RIVAL_METRICS)))
        if metric in TIER_PROFIT_METRICS and challenge["rivals"]:
            raise InvalidParameter(source, "goal.conditions.metric", metric, "a metric kept per firm: one of "
                                   + ", ".join(sorted(set(METRIC_LABELS) - TIER_PROFIT_METRICS)))


def _with_source(source, field_name, make):
    """Run `make`, prefixing a LoyaltyLabError with the file and field it came from."""
    try:
        return make()
    except LoyaltyLabError as err:
        err.args = (f"{source}, {field_name}: {err}",)
        raise


def _check_run(challenge, source):
    for name in ("months", "n_customers"):
        low, high = LIMITS[name]
        value = challenge[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidParameter(source, name, value, f"a whole number from {low} to {high}")
    seeds, (low, high) = challenge["seeds"], LIMITS["seeds"]
    if (not isinstance(seeds, list) or not low <= len(seeds) <= high or len(set(seeds)) != len(seeds)
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
        raise InvalidParameter(source, "seeds", seeds, f"a list of {low} to {high} different whole numbers, 0 or more")


def _check_goal(goal, source):
    if not isinstance(goal, dict) or set(goal) != {"description", "conditions"}:
        raise InvalidParameter(source, "goal", goal, "a mapping with 'description' (text) and 'conditions' (a list)")
    conditions = goal["conditions"]
    if not isinstance(conditions, list) or not conditions:
        raise InvalidParameter(source, "goal.conditions", conditions, "a list of at least one condition")
    return {"description": str(goal["description"]), "conditions": [_check_condition(c, source) for c in conditions]}


def _check_condition(condition, source):
    if not isinstance(condition, dict) or "metric" not in condition or len(condition) != 2:
        raise InvalidParameter(source, "goal.conditions", condition,
                               "mappings like {metric: profit, relative_gain_at_least: 0.15}")
    metric = condition["metric"]
    if metric not in METRIC_LABELS:
        raise InvalidParameter(source, "goal.conditions.metric", metric, "one of " + ", ".join(METRIC_LABELS))
    (kind, value), = ((k, v) for k, v in condition.items() if k != "metric")
    if kind not in CONDITION_KINDS:
        raise InvalidParameter(source, "goal.conditions", kind, "one of " + ", ".join(CONDITION_KINDS))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParameter(source, f"goal.conditions.{kind}", value, "a number")
    return {"metric": metric, "kind": kind, "value": float(value)}


# ------------------------------------------------------------------ running strategies
def run_outcomes(challenge, strategy, n_customers=None, progress=False, label="") -> dict:
    """Outcomes of `strategy` in the challenge's market, averaged over its seeds."""
    return mean_outcomes(seed_outcomes(challenge, strategy, n_customers, progress, label))


def seed_outcomes(challenge, strategy, n_customers=None, progress=False, label="") -> list[dict]:
    """Outcomes of `strategy` in the challenge's market, one dict per seed, in the challenge's order of seeds."""
    seeds = challenge["seeds"]
    if progress:
        from tqdm.auto import tqdm

        seeds = tqdm(seeds, desc=label or "seeds", leave=False)
    return [_one_run(challenge, strategy, n_customers or challenge["n_customers"], seed) for seed in seeds]


def mean_outcomes(runs: list[dict]) -> dict:
    return {key: sum(run[key] for run in runs) / len(runs) for key in runs[0]}


def _one_run(challenge, strategy, n_customers, seed) -> dict:
    """The outcomes of one seed: of the one firm, or of the learner's firm among the challenge's rivals."""
    overrides = challenge["scenario_overrides"]
    if not challenge.get("rivals"):
        model = LoyaltyMarket(challenge["scenario"], strategy, n_customers, seed=seed, **overrides)
        return outcomes(model.run(challenge["months"]))
    firms = {LEARNER_FIRM: strategy, **challenge["rivals"]}
    model = LoyaltyMarket(challenge["scenario"], firms=firms, n_customers=n_customers, seed=seed, **overrides)
    return outcomes(model.run(challenge["months"]), firm=LEARNER_FIRM)


def coerce_strategy(strategy, start: Strategy | None = None) -> Strategy:
    """A Strategy from a Strategy, a preset name, a path to a YAML strategy file, or a mapping of levers.

    A mapping changes only the levers it names: the others keep the values of `start` (the challenge's
    starting strategy), or of the balanced strategy when there is no `start`.
    """
    if isinstance(strategy, dict):
        for name in strategy:
            if name not in LEVERS_BY_NAME:
                raise UnknownField("strategy", str(name), LEVERS_BY_NAME)
        return (start or Strategy()).replace(**strategy)
    if isinstance(strategy, str) and strategy in PRESETS:
        return Strategy.preset(strategy)
    if isinstance(strategy, (str, Path)):
        path = Path(strategy)
        if path.suffix in (".yaml", ".yml") or path.exists():
            return Strategy.from_file(path)
        raise LoyaltyLabError(f"strategy: {str(strategy)!r} is neither a preset ({', '.join(PRESETS)}) "
                              "nor a YAML strategy file")
    return Strategy.coerce(strategy)


# ------------------------------------------------------------------ seed-to-seed noise
@dataclass
class SeedNoise:
    """The learner's outcome minus the starting strategy's, seed by seed (both meet the same customers on each seed).

    A difference is *within seed-to-seed noise* when the seeds do not agree on its direction: on at least one seed it
    went the other way, or not at all. With identical customers for both strategies on each seed, a change that every
    seed shows is the strategy's doing; one that flips from seed to seed cannot be told from luck. (A t-test over three
    seeds would call almost everything noise: its 95% margin is 4.3 standard errors.) With one seed nothing can be
    measured, and nothing is called noise.
    """

    differences: dict = field(default_factory=dict)

    @classmethod
    def of(cls, learner_runs: list[dict], baseline_runs: list[dict]) -> "SeedNoise":
        return cls({key: [mine[key] - theirs[key] for mine, theirs in zip(learner_runs, baseline_runs)]
                    for key in learner_runs[0]})

    def within_noise(self, metric) -> bool:
        found = self.differences.get(metric) or []
        if len(found) < 2:
            return False
        mean = sum(found) / len(found)
        return mean == 0 or any(d * mean <= 0 for d in found)

    def describe(self, metric, show) -> str:
        """'within seed-to-seed noise: the difference ran from -0.030 to +0.020 over the 3 seeds'."""
        found = self.differences[metric]
        return _t("within seed-to-seed noise: the difference ran from %(low)s to %(high)s over the %(count)s seeds") % {
            "low": show(min(found)), "high": show(max(found)), "count": len(found)}


NO_NOISE = SeedNoise()


# ------------------------------------------------------------------ grading
@dataclass
class Check:
    """One goal condition, judged: what was asked, what was reached, and how much of it (attainment in [0, 1])."""

    metric: str
    kind: str
    target: float
    value: float
    baseline: float
    met: bool
    attainment: float
    noise: str = ""  # "within seed-to-seed noise: ..." when the difference from the start is, else ""

    def sentence(self) -> str:
        """What was reached, against the start and the goal, shown with as many digits as the verdict needs.

        The number compared with the goal and the goal itself are printed at the first precision that tells them
        apart, so 74.97% is never shown as "75.0%" beside a goal of "at least 75.0%".
        """
        label = _label(self.metric)
        status = _t("met") if self.met else _t("not met")
        digits = self._deciding_digits()
        asked = _asked(self.kind, self.target, self.metric, digits)
        on_values = self.kind in ("at_least", "at_most")  # the goal compares the value itself, else its change
        value, base = (_fmt(v, self.metric, digits if on_values else 0) for v in (self.value, self.baseline))
        change = _change(self.value, self.baseline, self.metric, 0 if on_values else digits)
        noise = f"; {self.noise}" if self.noise else ""
        return _t("%(label)s: %(value)s against %(base)s for the starting strategy (%(change)s%(noise)s); "
                  "the goal asks %(asked)s - %(status)s.") % {"label": _capital(label), "value": value, "base": base,
                                                               "change": change, "noise": noise, "asked": asked,
                                                               "status": status}

    def _deciding_digits(self) -> int:
        """Extra decimals (0-6) at which the compared number and the goal no longer print alike (unless equal)."""
        for extra in range(7):
            compared, asked = _compared_and_asked(self, extra)
            if compared != asked:
                return extra
        return 0


def _compared_and_asked(check, extra) -> tuple[str, str]:
    """The number a condition compares with its goal, and the goal, as printed with `extra` decimals more."""
    metric = check.metric
    if check.kind in ("at_least", "at_most"):
        return _fmt(check.value, metric, extra), _fmt(check.target, metric, extra)
    if check.kind == "gain_at_least":
        return (_change(check.value, check.baseline, metric, extra, relative=False),
                _change(check.target, 0, metric, extra, relative=False))
    scale = abs(check.baseline) or 1.0
    moved = (check.value - check.baseline) if check.kind == "relative_gain_at_least" else (check.baseline - check.value)
    return f"{moved / scale:.{1 + extra}%}", f"{check.target:.{1 + extra}%}"


def judge(condition, outcome, baseline, noise: SeedNoise = NO_NOISE) -> Check:
    """Judge one goal condition of the learner's `outcome` against the starting strategy's `baseline`."""
    metric, kind, target = condition["metric"], condition["kind"], condition["value"]
    value, base = outcome[metric], baseline[metric]
    scale = abs(base) or 1.0
    if kind == "at_least":
        met, reached = value >= target, _ratio(value - base, target - base, value >= target)
    elif kind == "at_most":
        met, reached = value <= target, _ratio(base - value, base - target, value <= target)
    elif kind == "gain_at_least":
        met, reached = value - base >= target, _ratio(value - base, target, value - base >= target)
    elif kind == "relative_gain_at_least":
        met, reached = value - base >= target * scale, _ratio((value - base) / scale, target, value - base >= target * scale)
    else:  # relative_cut_at_least
        met, reached = base - value >= target * scale, _ratio((base - value) / scale, target, base - value >= target * scale)
    within = noise.describe(metric, lambda d: _change(d, 0, metric, relative=False)) if noise.within_noise(metric) else ""
    return Check(metric, kind, target, value, base, bool(met), reached, within)


def _ratio(achieved, required, met) -> float:
    """How much of the required change was achieved, in [0, 1] (1 whenever the condition is met)."""
    if met:
        return 1.0
    if required <= 0:
        return 0.0
    return float(min(max(achieved / required, 0.0), 0.99))


@dataclass
class GradeResult:
    """The verdict on a strategy: pass or fail, a score, both sets of outcomes, and feedback in the course's terms.

    `score` is the average share of each goal condition reached, from 0 to 100: 100 when every condition
    is met, at most 99 otherwise.
    """

    challenge_id: str
    title: str
    goal: str
    passed: bool
    score: float
    baseline: dict
    outcome: dict
    feedback: list
    checks: list = field(default_factory=list)
    strategy: Strategy | None = None
    noise: SeedNoise = field(default_factory=SeedNoise)
    language: str | None = None  # the language it was graded in (None: the process's, when it was graded)

    def score_explanation(self) -> str:
        """How the score is made, with this result's own numbers (in the language it was graded in)."""
        with _speaking(self.language):
            return explain_score(self.checks, self.score)

    def to_text(self) -> str:
        with _speaking(self.language):
            verdict = _t("PASSED") if self.passed else _t("NOT YET")
            lines = [_t("%(title)s (%(id)s): %(verdict)s, score %(score)s") % {
                         "title": self.title, "id": self.challenge_id, "verdict": verdict,
                         "score": _local(f"{self.score:.1f}")},
                     _t("Goal: %(goal)s") % {"goal": self.goal}]
            if self.checks:
                lines.append(self.score_explanation())
            return "\n".join(lines + [f"- {sentence}" for sentence in self.feedback])

    def _repr_html_(self) -> str:
        with _speaking(self.language):
            colour, verdict = ("#1a7f37", _t("Passed")) if self.passed else ("#b35900", _t("Not yet"))
            items = "".join(f"<li>{html.escape(s)}</li>" for s in self.feedback)
            explained = f"<p><small>{html.escape(self.score_explanation())}</small></p>" if self.checks else ""
            score_text = html.escape(_t("score %(score)s") % {"score": _local(f"{self.score:.1f}")})
            goal_word = html.escape(_t("Goal:"))
            return (f"<div><p><b>{html.escape(self.title)}</b>: <span style='color:{colour}'><b>{verdict}</b></span>, "
                    f"{score_text}</p><p><i>{goal_word}</i> {html.escape(self.goal)}</p>{explained}"
                    f"<ul>{items}</ul></div>")


class _speaking:
    """Within the block, translate for `language` (None: leave the language as it is)."""

    def __init__(self, language):
        self.language, self.token = language, None

    def __enter__(self):
        if self.language is not None:
            self.token = _LANGUAGE.set(self.language)

    def __exit__(self, *exc):
        if self.token is not None:
            _LANGUAGE.reset(self.token)


def grade(challenge_id, strategy, n_customers=None, progress=False, language=None) -> GradeResult:
    """Run `strategy` and the challenge's starting strategy on the same seeds and judge the goal.

    Args:
        challenge_id: an id from `list_challenges()` (or a path to a challenge file).
        strategy: a Strategy, a preset name, a dict of levers, or a path to a YAML strategy file.
        n_customers: run with this many customers instead of the challenge's (quicker, noisier).
        progress: show a progress bar over the seeds.
        language: the feedback's language (en, it, pl, zh_CN); by default simulations.i18n's language in use.

    Raises:
        LoyaltyLabError: a bad strategy or challenge, with a message naming the field, value and what is allowed.
    """
    if language is not None:
        from simulations.i18n import check_language

        language = check_language(language)
    else:
        from simulations.i18n import get_language

        language = get_language()  # fixed now: the result speaks the language it was graded in
    with _speaking(language):
        return _grade(challenge_id, strategy, n_customers, progress, language)


def _grade(challenge_id, strategy, n_customers, progress, language) -> GradeResult:
    challenge = load_challenge(challenge_id)
    learner = coerce_strategy(strategy, challenge["starting_strategy"])
    check_locked_levers(challenge, learner)
    if n_customers is not None and (isinstance(n_customers, bool) or not isinstance(n_customers, int)
                                    or not LIMITS["n_customers"][0] <= n_customers <= LIMITS["n_customers"][1]):
        raise InvalidParameter("grade", "n_customers", n_customers, "a whole number from 100 to 20000, or None")
    baseline_runs = seed_outcomes(challenge, challenge["starting_strategy"], n_customers, progress, "starting strategy")
    learner_runs = seed_outcomes(challenge, learner, n_customers, progress, "your strategy")
    baseline, outcome = mean_outcomes(baseline_runs), mean_outcomes(learner_runs)
    noise = SeedNoise.of(learner_runs, baseline_runs)
    size = (n_customers or challenge["n_customers"]) / challenge["n_customers"]
    checks = [judge(scaled(c, size), outcome, baseline, noise) for c in challenge["goal"]["conditions"]]
    passed = all(c.met for c in checks)
    return GradeResult(challenge["id"], challenge_text(challenge, "title", language),
                       challenge_text(challenge, "goal", language), passed, score(checks),
                       baseline, outcome, feedback(checks, outcome, baseline, passed, challenge, noise), checks, learner,
                       noise, language)


def check_locked_levers(challenge, strategy):
    """Refuse a strategy that moves a lever the challenge keeps at the starting strategy's value."""
    start = challenge["starting_strategy"]
    for name in LEVERS_BY_NAME:
        if name not in challenge["levers"] and getattr(strategy, name) != getattr(start, name):
            raise InvalidParameter(f"challenge {challenge['id']}", name, getattr(strategy, name),
                                   f"{getattr(start, name)!r} (this challenge lets you change only: "
                                   f"{', '.join(challenge['levers'])})")


def scaled(condition, size) -> dict:
    """The condition for a run `size` times as large: absolute targets in money or head counts scale with it."""
    extensive = condition["metric"] not in SHARE_METRICS and condition["metric"] != "nps"
    if size == 1 or not extensive or condition["kind"] not in ("at_least", "at_most", "gain_at_least"):
        return condition
    return {**condition, "value": condition["value"] * size}


def score(checks) -> float:
    """Average attainment of the conditions, x100: 100 exactly when every condition is met, at most 99 otherwise.

    The scale ends at 100 (a bonus for beating the main target once pushed it to "100.6"); by how much a
    strategy beat each target is told in the feedback sentences instead.
    """
    if all(c.met for c in checks):
        return 100.0
    base = 100.0 * sum(c.attainment for c in checks) / len(checks)
    return round(min(base, 99.0), 1)


def explain_score(checks, value) -> str:
    """'Score 50.0 of 100: the mean of how much of each goal condition was reached (...)': how `score` made it."""
    shown = _local(f"{value:.1f}")
    if not checks:
        return _t("Score %(score)s of 100.") % {"score": shown}
    parts = ", ".join(f"{_label(c.metric)} {_local(f'{100 * c.attainment:.0f}')}%" for c in checks)
    rule = _t("100 when every condition is met; otherwise at most 99, and a condition counts by the share of the "
              "change it asks for that your strategy made (0%% when it moved the wrong way)") % {}
    if len(checks) == 1:
        return _t("Score %(score)s of 100: how much of the goal's condition was reached (%(parts)s); %(rule)s.") % {
            "score": shown, "parts": parts, "rule": rule}
    return _t("Score %(score)s of 100: the mean, over the goal's %(count)s conditions, of how much of each was "
              "reached (%(parts)s); %(rule)s.") % {"score": shown, "count": len(checks), "parts": parts, "rule": rule}


# ------------------------------------------------------------------ feedback in the course's terms
def feedback(checks, outcome, baseline, passed, challenge, noise: SeedNoise = NO_NOISE) -> list:
    """Sentences that say what happened and why: goal conditions first, then tiers, churn causes, bonds, quadrants.

    A difference within seed-to-seed noise (`SeedNoise`) is reported as such, and never explained as a cause.
    """
    sentences = [c.sentence() for c in checks]
    for explain in (_money_story, _rival_story, _tier_story, _churn_story, _bond_story, _quadrant_story, _ladder_story):
        sentence = explain(outcome, baseline, noise)
        if sentence:
            sentences.append(sentence)
    if not passed:
        hint = gettext(challenge["hints"][0], "exercises", context=challenge["id"], language=_LANGUAGE.get())
        sentences.append(_t("Hint: %(hint)s") % {"hint": hint})
    return sentences


def _money_story(outcome, baseline, noise=NO_NOISE):
    revenue = _change(outcome["revenue"], baseline["revenue"], "revenue")
    cost = _change(outcome["cost"], baseline["cost"], "cost")
    text = _t("Revenue changed by %(revenue)s and costs by %(cost)s against the starting strategy: profit is the gap "
              "between them.") % {"revenue": revenue, "cost": cost}
    if noise.within_noise("profit"):
        text += " " + _t("The difference in profit is %(noise)s.") % {
            "noise": noise.describe('profit', lambda d: _local(f'{d:+,.0f}'))}
    return text


def _rival_story(outcome, baseline, noise=NO_NOISE):
    if "won_from_rivals" not in outcome:
        return ""
    return _t("Against the rivals: market share %(share)s at the end against %(base_share)s; %(won)s customers won "
              "from rivals and %(lost)s lost to them, against %(base_won)s and %(base_lost)s (a customer switches "
              "when a rival's offer would satisfy them more than yours does, and their ties to you do not hold "
              "them).") % {"share": _local(f"{outcome['market_share']:.1%}"),
                           "base_share": _local(f"{baseline['market_share']:.1%}"),
                           "won": _local(f"{outcome['won_from_rivals']:,.0f}"),
                           "lost": _local(f"{outcome['lost_to_rivals']:,.0f}"),
                           "base_won": _local(f"{baseline['won_from_rivals']:,.0f}"),
                           "base_lost": _local(f"{baseline['lost_to_rivals']:,.0f}")}


# what a tier's customers earned against the start, by tier and direction (one sentence each: tier names decline)
TIER_EARNED = {
    ("platinum", True): N_("Platinum customers earned %(money)s more"),
    ("platinum", False): N_("Platinum customers earned %(money)s less"),
    ("gold", True): N_("Gold customers earned %(money)s more"),
    ("gold", False): N_("Gold customers earned %(money)s less"),
    ("iron", True): N_("Iron customers earned %(money)s more"),
    ("iron", False): N_("Iron customers earned %(money)s less"),
    ("lead", True): N_("Lead customers earned %(money)s more"),
    ("lead", False): N_("Lead customers earned %(money)s less"),
}


def _tier_story(outcome, baseline, noise=NO_NOISE):
    if "profit_lead" not in outcome:  # a firm among rivals: its books keep no profit by tier
        return ""
    changes = {t: outcome[f"profit_{t}"] - baseline[f"profit_{t}"] for t in rules.TIERS}
    moved = sorted((t for t in rules.TIERS if abs(changes[t]) >= 0.02 * abs(baseline["profit"]) + 1
                    and not noise.within_noise(f"profit_{t}")), key=lambda t: -abs(changes[t]))
    if not moved:
        return _t("Profit by tier barely moved (no tier's change stood out from seed-to-seed noise).")
    parts = [_t(TIER_EARNED[t, changes[t] > 0]) % {"money": _money(abs(changes[t]))} for t in moved[:2]]
    before, after = baseline["profit_lead"], outcome["profit_lead"]
    lead = (_t("the Lead tier's loss went from %(before)s to %(after)s") % {"before": _money(-before),
                                                                          "after": _money(-after)}
            if before < 0 and after < 0 else
            _t("the Lead tier made %(before)s before and %(after)s now") % {"before": _money(before),
                                                                           "after": _money(after)})
    return _t("Profit by tier: %(parts)s than under the starting strategy; %(lead)s over the run (the customer "
              "pyramid: serve each tier at what it is worth).") % {"parts": _both(*parts), "lead": lead}


def _churn_story(outcome, baseline, noise=NO_NOISE):
    changes = {c: outcome[f"churned_{c}"] - baseline[f"churned_{c}"] for c in rules.CHURN_CAUSES}
    noticeable = max(5.0, 0.02 * baseline["churned"])  # smaller moves are the noise of a few customers

    def real(cause):
        return abs(changes[cause]) >= noticeable and not noise.within_noise(f"churned_{cause}")

    def causes(chosen):
        return _both(*(f"{_t(CAUSE_LABELS[c])} ({_local(f'{changes[c]:+.0f}')})" for c in chosen))

    shrank = [c for c in sorted(changes, key=changes.get) if changes[c] < 0 and real(c)][:2]
    grew = [c for c in sorted(changes, key=changes.get, reverse=True) if changes[c] > 0 and real(c)][:2]
    parts = []
    if shrank:
        parts.append(_t("fewer customers left through %(causes)s") % {"causes": causes(shrank)})
    if grew:
        parts.append(_t("more left through %(causes)s") % {"causes": causes(grew)})
    largest = max(rules.CHURN_CAUSES, key=lambda c: outcome[f"churned_{c}"])
    tail = _t("the largest cause of loss is %(cause)s (%(count)s customers over the run)") % {
        "cause": _t(CAUSE_LABELS[largest]), "count": _local(f"{outcome[f'churned_{largest}']:.0f}")}
    if not parts:
        return _t("Churn by cause barely moved: %(tail)s.") % {"tail": tail}
    return _t("Churn by cause: %(parts)s; %(tail)s.") % {"parts": "; ".join(parts), "tail": tail}


def _bond_story(outcome, baseline, noise=NO_NOISE):
    before, after = baseline["mean_switching_cost"], outcome["mean_switching_cost"]
    if abs(after - before) < 0.01:
        return ""
    shown = {"before": _local(f"{before:.2f}"), "after": _local(f"{after:.2f}")}
    if noise.within_noise("mean_switching_cost"):
        return _t("Switching costs went from %(before)s to %(after)s on average, %(noise)s: no sign that your bonds "
                  "changed.") % {**shown, "noise": noise.describe('mean_switching_cost',
                                                                  lambda d: _local(f'{d:+.3f}'))}
    products = {"products_before": _local(f"{baseline['mean_products']:.2f}"),
                "products_after": _local(f"{outcome['mean_products']:.2f}")}
    if after > before:
        return _t("Switching costs rose from %(before)s to %(after)s on average (products per customer "
                  "%(products_before)s -> %(products_after)s): bonds (products held, points, social, customization "
                  "and structural ties) make leaving costlier.") % {**shown, **products}
    return _t("Switching costs fell from %(before)s to %(after)s on average (products per customer "
              "%(products_before)s -> %(products_after)s): with weaker bonds, rivals find it easier to lure customers "
              "away.") % {**shown, **products}


def _quadrant_story(outcome, baseline, noise=NO_NOISE):
    apostles = (baseline["share_apostle"], outcome["share_apostle"])
    hostages = (baseline["share_hostage"], outcome["share_hostage"])
    text = _t("Apostles (satisfied and staying) are %(apostles)s of customers against %(apostles_before)s; hostages "
              "(dissatisfied but stuck) %(hostages)s against %(hostages_before)s.") % {
        "apostles": _local(f"{apostles[1]:.0%}"), "apostles_before": _local(f"{apostles[0]:.0%}"),
        "hostages": _local(f"{hostages[1]:.0%}"), "hostages_before": _local(f"{hostages[0]:.0%}")}
    if apostles[1] > apostles[0] + 0.03 and not noise.within_noise("share_apostle"):
        text += " " + _t("More apostles means more customers in the zone of affection, who refer others and resist "
                         "rivals.")
    if hostages[1] > hostages[0] + 0.03 and not noise.within_noise("share_hostage"):
        text += " " + _t("More hostages means more spurious loyalty: switching costs hold customers who are not "
                         "satisfied; they stay while they must, and warn their neighbours off.")
    return text


def _ladder_story(outcome, baseline, noise=NO_NOISE):
    if abs(outcome["upper_rungs"] - baseline["upper_rungs"]) < 1 and abs(outcome["advocates"] - baseline["advocates"]) < 1:
        return ""
    return _t("On the loyalty ladder, %(upper)s clients and advocates at the end against %(upper_before)s "
              "(%(advocates)s advocates against %(advocates_before)s).") % {
        "upper": _local(f"{outcome['upper_rungs']:.0f}"), "upper_before": _local(f"{baseline['upper_rungs']:.0f}"),
        "advocates": _local(f"{outcome['advocates']:.0f}"), "advocates_before": _local(f"{baseline['advocates']:.0f}")}


# ------------------------------------------------------------------ number formats
def _fmt(value, metric, extra=0) -> str:
    """A metric's value as the feedback prints it; `extra` decimals more when a verdict needs them."""
    if metric in SHARE_METRICS:
        return _local(f"{value:.{2 + extra}f}" if metric == "mean_switching_cost" else f"{value:.{1 + extra}%}")
    if metric == "nps":
        return _local(f"{value:+.{1 + extra}f}")
    return _money(value, extra) if metric in ("profit", "revenue", "cost") or metric.startswith("profit_") \
        else _local(f"{value:,.{extra}f}")


def _money(value, extra=0) -> str:
    return _local(f"{value:,.{extra}f}")


def _change(value, base, metric, extra=0, relative=True) -> str:
    """The change from `base` to `value`: points for shares, a per cent of `base` for money and counts.

    With `relative=False`, money and counts change in their own units (a goal of a rise of at least 500).
    """
    if metric in SHARE_METRICS or metric == "nps":
        percent = metric in ("retention_12m", "market_share") or metric.startswith("share_")
        scale = 100 if percent else 1
        number = _local(f"{scale * (value - base):+.{(1 if scale == 100 or metric == 'nps' else 2) + extra}f}")
        return _t("%(number)s points") % {"number": number} if percent or metric == "nps" else number
    if not base or not relative:
        return _local(f"{value - base:+,.{extra}f}")
    return _local(f"{100 * (value - base) / abs(base):+.{1 + extra}f}%")


def _asked(kind, target, metric, extra=0) -> str:
    if kind == "at_least":
        return _t("at least %(value)s") % {"value": _fmt(target, metric, extra)}
    if kind == "at_most":
        return _t("at most %(value)s") % {"value": _fmt(target, metric, extra)}
    if kind == "gain_at_least":
        return _t("a rise of at least %(value)s") % {
            "value": _change(target, 0, metric, extra, relative=False).lstrip('+')}
    shown = _local(f"{target:.0%}" if not extra else f"{target:.{1 + extra}%}")  # "15%", or the digits the verdict needs
    if kind == "relative_gain_at_least":
        return _t("a rise of at least %(value)s") % {"value": shown}
    return _t("a cut of at least %(value)s") % {"value": shown}


# ------------------------------------------------------------------ the notebook form
def challenge_form(challenge_id, n_customers=None):
    """A notebook form for a challenge: sliders for the levers it lets you change, Submit, feedback, Save as YAML.

    The form shows a clear message for a bad file name or strategy instead of a traceback. `form.submit()`
    and `form.save(path)` do what the buttons do (handy in tests); `form.result` is the last GradeResult.
    """
    return ChallengeForm(challenge_id, n_customers)


class ChallengeForm(w.VBox):
    """The widget `challenge_form` returns (an ipywidgets VBox)."""

    def __init__(self, challenge_id, n_customers=None):
        self.challenge = load_challenge(challenge_id)
        self.n_customers, self.result = n_customers, None
        self.controls = lever_controls(self.challenge["levers"], self.challenge["starting_strategy"])
        self.submit_button = w.Button(description="Submit strategy", button_style="primary")
        self.save_button = w.Button(description="Save as YAML")
        self.file_name = w.Text(value=f"{self.challenge['id']}_strategy.yaml", description="file")
        self.message, self.report = w.HTML(), w.HTML()
        self.submit_button.on_click(lambda _: self.submit())
        self.save_button.on_click(lambda _: self.save())
        buttons = w.HBox([self.submit_button, self.save_button, self.file_name])
        super().__init__([w.HTML(_challenge_html(self.challenge)), *self.controls.values(), buttons, self.message, self.report])

    def strategy(self) -> Strategy:
        """The starting strategy with the levers the form shows set as the sliders say."""
        return self.challenge["starting_strategy"].replace(**{name: c.value for name, c in self.controls.items()})

    def submit(self):
        """Grade the strategy on the sliders and show the feedback (or a clear message)."""
        self.message.value = "<i>Running your strategy and the starting strategy on the same customers...</i>"
        try:
            self.result = grade(self.challenge["id"], self.strategy(), n_customers=self.n_customers)
        except LoyaltyLabError as err:
            self.message.value = _error_html(err)
            return None
        self.message.value = ""
        self.report.value = self.result._repr_html_()
        return self.result

    def save(self, path=None):
        """Write the strategy as a YAML file that the workshop tournament reads; returns the path or None."""
        path = Path(path or self.file_name.value.strip())
        if path.suffix not in (".yaml", ".yml"):
            self.message.value = _error_html(InvalidParameter("form", "file", str(path), "a file name ending in .yaml"))
            return None
        try:
            written = self.strategy().to_file(path)
        except OSError as err:
            self.message.value = _error_html(BadFile(path, f"cannot be written ({err.strerror or err})"))
            return None
        self.message.value = f"Saved to <code>{html.escape(str(written))}</code>."
        return written


def _challenge_html(challenge) -> str:
    def text(part):
        return html.escape(challenge_text(challenge, part))

    hints = "".join(f"<li>{html.escape(gettext(h, 'exercises', context=challenge['id']))}</li>"
                    for h in challenge["hints"])
    goal, teaches, hint_word = (html.escape(_t(word)) for word in (N_("Goal:"), N_("What it teaches:"), N_("Hints")))
    return (f"<h4>{text('title')}</h4><p><b>{goal}</b> {text('goal')}</p>"
            f"<p><b>{teaches}</b> {text('teaches')}</p>"
            f"<details><summary>{hint_word}</summary><ul>{hints}</ul></details>")


def _error_html(err) -> str:
    not_graded = html.escape(_t("Not graded:"))
    return f"<span style='color:#b00'><b>{not_graded}</b> {html.escape(str(err))}</span>"
