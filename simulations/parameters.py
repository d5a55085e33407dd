"""One declarative specification of every strategy lever and scenario setting.

`Strategy` validates against `LEVERS`, scenarios validate against `SCENARIO_SETTINGS`, the notebook
sliders and the SolaraViz page are built from the same entries, and the tests check them, so a range
cannot drift between the model, the controls and the docs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import InvalidParameter

PROGRAMME_KINDS = ("none", "standalone_points", "coalition_points", "cobranded_card", "membership_club")


@dataclass(frozen=True)
class Parameter:
    """A named, bounded input with a label and help text (what a slider or a YAML field needs)."""

    name: str
    label: str
    default: float | str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    help: str = ""
    choices: tuple[str, ...] | None = None
    integer: bool = False

    def allowed(self) -> str:
        """Human-readable statement of what values this parameter accepts."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} from {self.min:g} to {self.max:g}"

    def check(self, value, owner: str):
        """Return `value` coerced to the parameter's type, or raise InvalidParameter naming the field."""
        if self.choices:
            if value not in self.choices:
                raise InvalidParameter(owner, self.name, value, self.allowed())
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidParameter(owner, self.name, value, self.allowed())
        if math.isnan(value) or not (self.min <= value <= self.max):
            raise InvalidParameter(owner, self.name, value, self.allowed())
        if self.integer:
            if value != int(value):
                raise InvalidParameter(owner, self.name, value, self.allowed())
            return int(value)
        return float(value)


def _unit(name, label, default, help, step=0.05):
    return Parameter(name, label, default, 0.0, 1.0, step, help)


LEVERS: tuple[Parameter, ...] = (
    _unit("service_platinum", "service: Platinum", 0.6, "Service level given to Platinum customers (0 = bare, 1 = white glove)."),
    _unit("service_gold", "service: Gold", 0.6, "Service level given to Gold customers."),
    _unit("service_iron", "service: Iron", 0.6, "Service level given to Iron customers."),
    _unit("service_lead", "service: Lead", 0.6, "Service level given to Lead customers."),
    _unit("product_quality", "product quality", 0.6, "Quality of the core product compared with what customers could expect."),
    _unit("frontline_care", "frontline care (4 A's)", 0.6,
          "How well staff acknowledge, appreciate, affirm and assure customers at every contact."),
    _unit("feedback_channel", "feedback channel", 0.5,
          "Feedback pages, phone agents and timely answers: the share of complaints heard and answered."),
    _unit("staying_in_touch", "staying in touch", 0.5, "Thank-you notes, check-in calls and news: contact that shows the firm cares."),
    Parameter("loyalty_programme", "loyalty programme", "none", help="Kind of loyalty programme offered.",
              choices=PROGRAMME_KINDS),
    Parameter("reward_rate", "reward rate", 0.0, 0.0, 0.10, 0.005,
              "Share of spend returned to members as points or rewards (0 to 10%)."),
    _unit("cross_sell", "cross-selling", 0.3, "Effort to sell further products and bundles to existing customers."),
    _unit("social_bond", "social bonds", 0.2, "Investment in personal relationships, communities and events."),
    _unit("customization_bond", "customization bonds", 0.2, "Investment in knowing each customer and tailoring the offer."),
    _unit("structural_bond", "structural bonds", 0.2, "Investment in integrated services and systems that are costly to leave."),
    Parameter("price_index", "price index", 1.0, 0.7, 1.3, 0.01, "Price relative to the market (1 = market price)."),
    _unit("acquisition_budget", "acquisition budget", 0.5, "Marketing effort to reach suspects (0 = none, 1 = the largest campaign)."),
    _unit("targeting_precision", "targeting precision", 0.5,
          "How well the firm spots prospects who do not fit (disqualifies them) before spending on them."),
)

SCENARIO_SETTINGS: tuple[Parameter, ...] = (
    _unit("competitive_intensity", "competitive intensity", 0.5,
          "0 = monopoly (nowhere else to go), 1 = free switching among equal rivals.", step=0.05),
    Parameter("pool_ratio", "suspects per customer", 1.0, 0.1, 10.0, 0.1, "People in the market who are not customers yet, per customer."),
    Parameter("spend_median", "median monthly spend", 30.0, 1.0, 10000.0, 1.0, "Median monthly category spend of a customer."),
    Parameter("spend_sigma", "spread of spend", 0.8, 0.0, 2.0, 0.05, "Log-normal spread of spend: larger makes a few whales."),
    Parameter("cost_to_serve_median", "median cost to serve", 6.0, 0.0, 10000.0, 0.5, "Median monthly cost of serving a customer."),
    Parameter("cost_to_serve_sigma", "spread of cost to serve", 0.6, 0.0, 2.0, 0.05, "Log-normal spread of cost to serve."),
    _unit("gross_margin", "gross margin", 0.5, "Share of revenue left after the cost of goods, at the market price."),
    Parameter("max_products", "products on offer", 3, 1, 10, 1, "How many products a customer can hold (cross-selling room).", integer=True),
    Parameter("product_spend_step", "spend per extra product", 0.3, 0.0, 2.0, 0.05, "Extra spend each further product brings, as a share of base spend."),
    _unit("wallet_floor", "share of wallet floor", 0.3,
          "Share of their category spend even an indifferent customer gives the firm (near 1 for a utility)."),
    _unit("price_sensitivity_mean", "mean price sensitivity", 0.5, "Average price sensitivity of customers."),
    _unit("quality_sensitivity_mean", "mean quality sensitivity", 0.5, "Average weight customers put on the core product over the service."),
    _unit("expectation_mean", "mean expectation", 0.55, "What customers expect on arrival, on the same 0-1 scale as quality."),
    Parameter("expectation_sd", "spread of expectations", 0.08, 0.0, 0.5, 0.01, "Spread of expectations between customers."),
    _unit("competitor_standard", "competitors' standard", 0.6, "Quality that rivals offer: expectations drift toward it."),
    _unit("contract_lock_in", "contract lock-in", 0.0, "Switching cost from contracts and termination fees."),
    Parameter("contract_months", "contract term (months)", 0, 0, 60, 1,
              "Months a new customer's contract runs: its lock-in holds until then, and lapses after (0 = it never lapses).",
              integer=True),
    Parameter("death_rate", "death rate (monthly)", 0.0008, 0.0, 0.05, 0.0001, "Monthly probability that a customer dies."),
    Parameter("move_rate", "moving-away rate (monthly)", 0.002, 0.0, 0.05, 0.0005, "Monthly probability that a customer moves out of reach."),
    Parameter("other_relationships_rate", "ended needs (monthly)", 0.003, 0.0, 0.1, 0.0005,
              "Monthly probability that needs end or other relationships take over (higher for customers who never fitted)."),
    Parameter("lure_rate", "competitor lure (monthly)", 0.04, 0.0, 0.5, 0.005, "Monthly chance that rivals' advertising makes a customer weigh a rival's offer, at full competitive intensity."),
    Parameter("product_churn_rate", "product dissatisfaction (monthly)", 0.02, 0.0, 0.5, 0.005, "Monthly exit rate of customers fully disappointed by the product."),
    Parameter("indifference_rate", "indifference (monthly)", 0.08, 0.0, 0.5, 0.005, "Monthly exit rate of customers who feel fully neglected."),
    _unit("search_rate", "active search (monthly)", 0.1,
          "Extra monthly chance that a fully dissatisfied customer goes looking at rivals' offers (grows with dissatisfaction squared)."),
    Parameter("proneness_shape", "lasting differences (Gamma shape)", 1.0, 0.1, 100.0, 0.1,
              "Shape of the Gamma distribution of each person's lasting proneness to leave (mean 1): smaller means more polarized customers."),
    Parameter("tenure_bonding", "bonds deepening with tenure", 0.0, 0.0, 2.0, 0.05,
              "How fast the tie of a long tenure (habit, trust) grows on its own: after t years it lets through (1 + t) to the power of minus this of a rival's pull."),
    _unit("good_fit_share", "share of good-fit people", 0.6, "Share of the people in the market the offer really suits."),
    _unit("conversion_rate", "conversion rate", 0.15, "Monthly chance that a reached prospect buys for the first time."),
    _unit("referral_rate", "referral rate", 0.1, "Monthly chance that an advocate recommends the firm to a neighbour."),
    _unit("referral_conversion", "referral conversion", 0.35, "Monthly chance that a referred prospect buys."),
    Parameter("max_contact_rate", "campaign reach", 0.06, 0.0, 0.5, 0.005, "Share of the customer base reached as new suspects each month at full budget."),
    Parameter("acquisition_contact_cost", "cost per contact", 40.0, 0.0, 10000.0, 1.0, "Cost of reaching one suspect (better targeting raises it by up to a quarter)."),
    Parameter("service_unit_cost", "cost of full service", 8.0, 0.0, 10000.0, 0.5, "Monthly cost per customer of service level 1 (cost grows with the square of the level)."),
    Parameter("quality_cost_share", "cost of full quality", 0.25, 0.0, 1.0, 0.01, "Cost of product quality 1 as a share of revenue (grows with the square)."),
    Parameter("care_unit_cost", "cost of full care", 3.0, 0.0, 1000.0, 0.1, "Monthly cost per customer of frontline care 1 (training, staffing)."),
    Parameter("channel_unit_cost", "cost of full feedback channel", 1.5, 0.0, 1000.0, 0.1, "Monthly cost per customer of a fully staffed feedback channel."),
    Parameter("contact_unit_cost", "cost of full contact", 1.0, 0.0, 1000.0, 0.1, "Monthly cost per customer of staying in touch at level 1 (and of cross-selling effort at level 1)."),
    Parameter("bond_unit_cost", "cost of a full bond", 1.0, 0.0, 1000.0, 0.1, "Monthly cost per customer of each bond at level 1."),
    Parameter("programme_overhead", "programme overhead", 0.8, 0.0, 1000.0, 0.1, "Monthly running cost per member of a standalone points programme."),
    Parameter("fixed_cost", "fixed cost per starting customer", 4.0, 0.0, 10000.0, 0.5,
              "Monthly fixed cost (network, stores, head office) per customer the firm started with; not allocated to customers."),
    Parameter("platinum_cutoff", "Platinum cut-off", 20.0, -1000.0, 10000.0, 1.0, "Monthly profit above which a customer is Platinum."),
    Parameter("gold_cutoff", "Gold cut-off", 8.0, -1000.0, 10000.0, 1.0, "Monthly profit above which a customer is Gold."),
    Parameter("iron_cutoff", "Iron cut-off", 0.0, -1000.0, 10000.0, 1.0, "Monthly profit above which a customer is Iron; below it, Lead."),
    Parameter("tier_review_months", "tier review period", 6, 1, 24, 1, "Months between reviews of customer tiers.", integer=True),
    Parameter("network_degree", "word-of-mouth contacts", 6, 2, 30, 2, "Neighbours each person has on the social network.", integer=True),
    _unit("network_rewiring", "network randomness", 0.1, "Share of long-range ties in the small-world network (Watts & Strogatz)."),
)

LEVERS_BY_NAME = {p.name: p for p in LEVERS}
SETTINGS_BY_NAME = {p.name: p for p in SCENARIO_SETTINGS}
