"""The strategy form of the pages: one field per lever of `simulations.parameters.LEVERS`, with what it costs.

The fields, ranges and help come from LEVERS (the notebook sliders use the same entries); what a lever costs comes
from the game's scenario settings, read the way `LoyaltyMarket._account` spends them (simulations/model.py): most
levers cost `unit cost x level squared` per customer per month (`rules.lever_cost`). A posted form is turned back
into a mapping of levers here; checking the values is left to `Strategy.from_dict` (through `Store.submit`), so the
pages accept exactly what the API and the YAML files accept.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulations import rules
from simulations.errors import LoyaltyLabError
from simulations.parameters import LEVERS, LEVERS_BY_NAME
from simulations.strategy import Strategy

from .i18n import N_, _, choice_name, number, percent, translate_like

# lever -> (scenario setting of its cost at level 1, what that cost is counted in); see LoyaltyMarket._account
SQUARED_COSTS = {
    "service_platinum": ("service_unit_cost", N_("per Platinum customer per month")),
    "service_gold": ("service_unit_cost", N_("per Gold customer per month")),
    "service_iron": ("service_unit_cost", N_("per Iron customer per month")),
    "service_lead": ("service_unit_cost", N_("per Lead customer per month")),
    "frontline_care": ("care_unit_cost", N_("per customer per month")),
    "feedback_channel": ("channel_unit_cost", N_("per customer per month")),
    "staying_in_touch": ("contact_unit_cost", N_("per customer per month")),
    "cross_sell": ("contact_unit_cost", N_("per customer per month")),
    "social_bond": ("bond_unit_cost", N_("per customer per month")),
    "customization_bond": ("bond_unit_cost", N_("per customer per month")),
    "structural_bond": ("bond_unit_cost", N_("per customer per month")),
}


@dataclass
class Field:
    """One lever as the form shows it: its specification, current value, cost hint and any error."""

    name: str
    label: str
    help: str
    value: object
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple | None = None
    cost_unit: float | None = None   # for the page's script: cost = cost_unit x level^2
    cost_per: str = ""
    cost_hint: str = ""
    error: str = ""
    locked: bool = False


def cost_hint(name: str, value, scenario: dict) -> tuple[float | None, str, str]:
    """(unit cost for a squared lever or None, what it is counted per, the hint in words at `value`), in the
    language of the request being answered (classroom.i18n)."""
    if name in SQUARED_COSTS:
        setting, per = SQUARED_COSTS[name]
        per = _(per)
        unit = float(scenario[setting])
        now = float(rules.lever_cost(float(value), unit)) if _is_number(value) else None
        at_value = (_("%(cost)s %(per)s at this level; ") % {"cost": number(now, 2), "per": per}
                    if now is not None else "")
        return unit, per, at_value + _("%(unit)s at 1 (the cost grows with the square of the level)") % {
            "unit": number(unit, 2)}
    if name == "product_quality":
        return None, "", _("costs %(share)s of revenue at 1, growing with the square of the level") % {
            "share": percent(float(scenario["quality_cost_share"]))}
    if name == "loyalty_programme":
        return None, "", programme_hint(scenario)
    if name == "reward_rate":
        return None, "", _("returns this share of each member's spend; about 4 in 5 points are redeemed and cost money")
    if name == "price_index":
        return None, "", _("no cost: a higher price earns more per customer and pushes price-sensitive customers away")
    if name == "acquisition_budget":
        return None, "", _("each suspect the campaign reaches costs about %(cost)s; the budget sets how many are "
                           "reached") % {"cost": number(float(scenario["acquisition_contact_cost"]))}
    if name == "targeting_precision":
        cost = float(scenario["acquisition_contact_cost"])
        return None, "", _("keeps poor fits out; a contact costs from %(low)s (no targeting) to %(high)s "
                           "(full targeting)") % {"low": number(0.75 * cost), "high": number(1.25 * cost)}
    return None, "", ""


def programme_hint(scenario: dict) -> str:
    """Running cost per member per month of each kind of programme (rules.PROGRAMMES' overhead)."""
    overhead = float(scenario["programme_overhead"])
    costs = [f"{choice_name(kind)} {number(overhead * traits['overhead'], 2)}"
             for kind, traits in rules.PROGRAMMES.items() if kind != "none"]
    return _("running cost per member per month: %(costs)s") % {"costs": ", ".join(costs)}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def lever_label(lever) -> str:
    """A lever's name on the form, in the request's language (the catalog holds simulations.parameters' labels)."""
    return _(lever.label)


def fields(values: dict, scenario: dict, errors: dict | None = None, editable=None) -> list[Field]:
    """The form's fields in the order of LEVERS, showing `values` (posted or saved) and `errors` by lever."""
    errors = errors or {}
    shown = []
    for lever in LEVERS:
        value = values.get(lever.name, lever.default)
        unit, per, hint = cost_hint(lever.name, value, scenario)
        shown.append(Field(lever.name, lever_label(lever), _(lever.help), value, lever.min, lever.max, lever.step, lever.choices,
                           unit, per, hint, errors.get(lever.name, ""),
                           locked=editable is not None and lever.name not in editable))
    return shown


def parse(form: dict, names=None) -> tuple[dict, dict]:
    """The levers posted in `form` (text) as values: (levers, errors by lever for text that is not a number).

    Only lever names are read (anything else in the form is ignored): team input is data, never code or paths.
    `names` limits the levers read (a challenge's changeable levers).
    """
    levers, errors = {}, {}
    for name in names or LEVERS_BY_NAME:
        lever = LEVERS_BY_NAME[name]
        if name not in form:
            continue
        text = form[name].strip()
        if lever.choices:
            levers[name] = text
            continue
        try:
            levers[name] = float(text)
        except ValueError:
            errors[name] = _("%(value)s is not a number; allowed: %(allowed)s") % {
                "value": repr(text), "allowed": translate_like(lever.allowed())}
    return levers, errors


def check(levers: dict) -> dict:
    """Errors by lever of `levers` as `Strategy.from_dict` finds them (empty when they make a valid strategy)."""
    try:
        Strategy.from_dict(levers)
    except LoyaltyLabError as err:
        return errors_by_field(err)
    return {}


def errors_by_field(err: LoyaltyLabError) -> dict:
    """Each error of a refused strategy under its lever's name (a message naming the value and what is allowed)."""
    found = {}
    for single in err.errors:
        field = str(single.field or "strategy")
        found.setdefault(field, _("%(value)s is not allowed; allowed: %(allowed)s") % {
            "value": repr(single.value), "allowed": translate_like(str(single.allowed))})
    return found
