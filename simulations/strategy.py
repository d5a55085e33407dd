"""The firm's levers as one frozen, validated object, with named presets and YAML files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .errors import (BadFile, BadInput, DuplicateField, InvalidParameter, LoyaltyLabError, ManyErrors, UnknownField,
                     did_you_mean, match_name)
from .files import atomic_write_text, read_yaml_with_lines
from .parameters import LEVERS, LEVERS_BY_NAME

PRESETS = {
    "balanced": {},
    "neglect": dict(
        service_platinum=0.2, service_gold=0.2, service_iron=0.2, service_lead=0.2, product_quality=0.3,
        frontline_care=0.05, feedback_channel=0.0, staying_in_touch=0.0, cross_sell=0.0,
        social_bond=0.0, customization_bond=0.0, structural_bond=0.0,
    ),
    "tiered": dict(service_platinum=0.95, service_gold=0.8, service_iron=0.5, service_lead=0.2),
    "bonding": dict(
        loyalty_programme="standalone_points", reward_rate=0.03, cross_sell=0.7,
        social_bond=0.6, customization_bond=0.6, structural_bond=0.6, staying_in_touch=0.7,
    ),
}

PRESET_DESCRIPTIONS = {
    "balanced": "Every lever at a middle setting: the default firm.",
    "neglect": "Little frontline care, no feedback channel, low quality and no bonds.",
    "tiered": "Service concentrated on the top tiers, bare service for Lead.",
    "bonding": "A points programme, cross-selling and strong social, customization and structural bonds.",
}


@dataclasses.dataclass(frozen=True)
class Strategy:
    """Everything the firm decides, every lever validated on creation.

    Each field is described in `simulations.parameters.LEVERS` (label, range, help); every lever costs
    money in the model, so no lever is free.
    """

    service_platinum: float = LEVERS_BY_NAME["service_platinum"].default
    service_gold: float = LEVERS_BY_NAME["service_gold"].default
    service_iron: float = LEVERS_BY_NAME["service_iron"].default
    service_lead: float = LEVERS_BY_NAME["service_lead"].default
    product_quality: float = LEVERS_BY_NAME["product_quality"].default
    frontline_care: float = LEVERS_BY_NAME["frontline_care"].default
    feedback_channel: float = LEVERS_BY_NAME["feedback_channel"].default
    staying_in_touch: float = LEVERS_BY_NAME["staying_in_touch"].default
    loyalty_programme: str = LEVERS_BY_NAME["loyalty_programme"].default
    reward_rate: float = LEVERS_BY_NAME["reward_rate"].default
    cross_sell: float = LEVERS_BY_NAME["cross_sell"].default
    social_bond: float = LEVERS_BY_NAME["social_bond"].default
    customization_bond: float = LEVERS_BY_NAME["customization_bond"].default
    structural_bond: float = LEVERS_BY_NAME["structural_bond"].default
    price_index: float = LEVERS_BY_NAME["price_index"].default
    acquisition_budget: float = LEVERS_BY_NAME["acquisition_budget"].default
    targeting_precision: float = LEVERS_BY_NAME["targeting_precision"].default

    def __post_init__(self):
        for lever in LEVERS:
            object.__setattr__(self, lever.name, lever.check(getattr(self, lever.name), "strategy"))

    @classmethod
    def from_dict(cls, levers: dict, source: str = "strategy") -> "Strategy":
        """Build from a mapping of lever: value; lever names match whatever their case (`Frontline_Care`).

        Every problem is found before anything is raised, so a team fixes its file in one go.

        Raises:
            UnknownField, InvalidParameter or DuplicateField when there is one problem; `ManyErrors` (whose
            `.errors` lists them) when there are several. All are `LoyaltyLabError`s naming field, value and allowed.
        """
        if not isinstance(levers, dict):
            raise BadFile(source, f"expected a mapping of lever: value, got {type(levers).__name__}",
                          allowed="'lever: value' lines, e.g. frontline_care: 0.7")
        checked, problems = lever_values(levers)
        raise_all(source, problems)
        return cls(**checked)

    @classmethod
    def preset(cls, name: str) -> "Strategy":
        """A named strategy: 'balanced', 'neglect', 'tiered' or 'bonding' (any case)."""
        canonical = {p.lower(): p for p in PRESETS}.get(str(name).strip().lower())
        if canonical is None:
            raise InvalidParameter("strategy", "preset", name, f"one of {', '.join(PRESETS)}{did_you_mean(name, PRESETS)}")
        return cls(**PRESETS[canonical])

    @classmethod
    def coerce(cls, strategy) -> "Strategy":
        """Accept a Strategy, a preset name, a mapping of levers, or None (the balanced default)."""
        if strategy is None:
            return cls()
        if isinstance(strategy, Strategy):
            return strategy
        if isinstance(strategy, str):
            return cls.preset(strategy)
        if isinstance(strategy, dict):
            return cls.from_dict(strategy)
        raise BadInput("strategy", strategy, "is not allowed",
                       f"a Strategy, a preset name ({', '.join(PRESETS)}) or a dict of levers")

    def replace(self, **levers) -> "Strategy":
        """A copy with some levers changed (validated like a new strategy)."""
        for name in levers:
            if name not in LEVERS_BY_NAME:
                raise UnknownField("strategy", name, LEVERS_BY_NAME)
        return dataclasses.replace(self, **levers)

    def as_dict(self) -> dict:
        """Lever name -> value, in the order of `LEVERS`."""
        return {lever.name: getattr(self, lever.name) for lever in LEVERS}

    @classmethod
    def from_file(cls, path) -> "Strategy":
        """Read a strategy from YAML (safely: a file is data, never code), reporting every problem at once.

        A file that is empty or holds only comments is refused (it would silently play as the balanced firm),
        and so is a lever given twice (YAML would silently keep the last value).
        """
        path = Path(path)
        data, duplicates, lines = read_yaml_with_lines(path, owner="strategy")
        if data is None or data == {}:
            raise BadFile(path, "is empty or holds only comments; allowed: at least one 'lever: value' line, "
                          "e.g. frontline_care: 0.7 (a template: loyalty-lab new-strategy FILE)",
                          allowed="at least one 'lever: value' line")
        if not isinstance(data, dict):
            raise BadFile(path, f"expected a mapping of lever: value, got {type(data).__name__}",
                          allowed="'lever: value' lines, e.g. frontline_care: 0.7")
        checked, problems = lever_values(data)
        raise_all(str(path), _in_file_order(list(duplicates) + problems, lines))
        return cls(**checked)

    def to_yaml(self, comments: bool = True) -> str:
        """The strategy as YAML; with comments, each lever is preceded by its meaning and range."""
        lines = ["# Loyalty Lab strategy: every lever, its allowed values and its meaning."] if comments else []
        for lever in LEVERS:
            value = getattr(self, lever.name)
            if comments:
                lines.append(f"# {lever.label}: {lever.help} Allowed: {lever.allowed()}.")
            lines.append(f"{lever.name}: {value if isinstance(value, str) else round(value, 6)}")
        return "\n".join(lines) + "\n"

    def to_file(self, path, comments: bool = True) -> Path:
        """Write the strategy as YAML that `from_file` (and the workshop tournament) reads back."""
        return atomic_write_text(path, self.to_yaml(comments))


def lever_values(levers: dict) -> tuple[dict, list[LoyaltyLabError]]:
    """Check every lever of a mapping: (canonical name -> checked value, every problem found).

    Names match whatever their case; two keys that differ only in case name the same lever twice, an error.
    """
    checked, spelled, problems = {}, {}, []
    for name, value in levers.items():
        try:
            canonical = match_name(name, LEVERS_BY_NAME, "strategy", value=value)
            if canonical in spelled:
                raise DuplicateField("strategy", canonical, value=value,
                                     where=f"as {spelled[canonical]!r} and as {name!r}")
            spelled[canonical] = name
            checked[canonical] = LEVERS_BY_NAME[canonical].check(value, "strategy")
        except LoyaltyLabError as err:
            problems.append(err)
    return checked, problems


def _in_file_order(problems: list[LoyaltyLabError], lines: dict[str, int]) -> list[LoyaltyLabError]:
    """Problems sorted by the line they are about, so a team can work down its file."""
    by_name = {name.lower(): line for name, line in lines.items()}

    def line_of(problem):
        return getattr(problem, "line", None) or by_name.get(str(problem.field).lower(), 0)

    return sorted(problems, key=line_of)


def raise_all(source: str, problems: list[LoyaltyLabError]) -> None:
    """Raise nothing, the one problem (its message prefixed with the source), or `ManyErrors` with them all."""
    if len(problems) == 1:
        err = problems[0]
        if not str(err).startswith(f"{source}: ") and source != "strategy":
            err.args = (f"{source}: {err}",)
        raise err
    if problems:
        raise ManyErrors(source, problems)
