"""The firms of a market: their strategies, what their offers are worth to a customer, and their books.

`Firms` holds each firm's strategy as arrays over firms, so the model can look up any lever for every
customer at once (`firms.of("frontline_care", firm_of_each_customer)`). With a single firm the lookups
return plain numbers, so the one-firm market pays nothing for the many-firm machinery.
`Ledger` keeps each firm's money, customers won and lost, and churn by cause, month by month.
"""

from __future__ import annotations

import numpy as np

from . import rules
from .errors import InvalidParameter
from .parameters import LEVERS
from .strategy import Strategy

MAX_FIRMS = 40  # a classroom of up to forty teams plays one market (issue 11)
NUMERIC_LEVERS = tuple(lever.name for lever in LEVERS if not lever.choices)
PROGRAMME_KEYS = ("lock_in", "value", "overhead", "social")
SERVICE_LEVERS = ("service_platinum", "service_gold", "service_iron", "service_lead")  # in rules.TIERS order


def check_firm_names(names) -> tuple[str, ...]:
    """1 to 12 distinct, non-empty names of at most 40 characters (they label columns and leaderboards)."""
    names = tuple(names)
    if not 1 <= len(names) <= MAX_FIRMS:
        raise InvalidParameter("model", "firms", len(names), f"from 1 to {MAX_FIRMS} firms")
    for name in names:
        if not isinstance(name, str) or not name.strip() or len(name) > 40:
            raise InvalidParameter("model", "firms", name, "a non-empty name of at most 40 characters")
    lowered = [n.lower() for n in names]
    if len(set(lowered)) < len(names):
        twice = next(n for n in names if lowered.count(n.lower()) > 1)
        raise InvalidParameter("model", "firms", twice, "each firm's name once (names differing only in case clash)")
    return names


class Firms:
    """Every firm's strategy, as arrays over firms (one entry per firm, in the order given)."""

    def __init__(self, strategies: dict):
        self.names = check_firm_names(strategies)
        self.strategies = [Strategy.coerce(s) for s in strategies.values()]
        self._derive()

    def __len__(self):
        return len(self.names)

    def index(self, name: str) -> int:
        """The position of firm `name`; an unknown name is an error that names it and the firms there are."""
        if name not in self.names:
            raise InvalidParameter("model", "firm", name, f"one of {', '.join(self.names)}")
        return self.names.index(name)

    def add(self, name: str, strategy) -> None:
        """A firm enters the market (between months): it is appended, so every other firm keeps its index."""
        strategy = Strategy.coerce(strategy)
        self.names = check_firm_names(self.names + (name,))
        self.strategies.append(strategy)
        self._derive()

    def set_strategy(self, name: str, strategy) -> None:
        """Change one firm's strategy (between months)."""
        self.strategies[self.index(name)] = Strategy.coerce(strategy)
        self._derive()

    def _derive(self):
        self.levers = {name: np.array([getattr(s, name) for s in self.strategies], dtype=float) for name in NUMERIC_LEVERS}
        self.service_by_tier = np.array([[getattr(s, lever) for lever in SERVICE_LEVERS] for s in self.strategies])
        self.programme = {key: np.array([rules.PROGRAMMES[s.loyalty_programme][key] for s in self.strategies])
                          for key in PROGRAMME_KEYS}

    # ------------------------------------------------------------------ per-customer lookups
    def of(self, lever: str, firm):
        """`lever` of the firm of each customer (`firm`: an array of firm indices); a number when there is one firm."""
        values = self.levers[lever]
        return values[0] if len(values) == 1 else values[firm]

    def programme_of(self, key: str, firm):
        """A property of each customer's firm's loyalty programme (see rules.PROGRAMMES)."""
        values = self.programme[key]
        return values[0] if len(values) == 1 else values[firm]

    def service(self, firm, tier):
        """The service level each customer gets: their firm's level for their tier."""
        return self.service_by_tier[0][tier] if len(self) == 1 else self.service_by_tier[firm, tier]

    def newcomer_value(self, firm, quality_sensitivity, price_sensitivity):
        """What a customer would expect to get from `firm`'s offer as a newcomer (Iron service, no luck).

        This is how a rival's offer looks from outside: advertising and word of mouth tell of its
        product, care, price and rewards, not of the service its best customers get, nor of how well it
        would suit this particular person (that is only learnt by buying), so a customer weighs it with
        their own sensitivities but an average fit.
        """
        got = rules.perceived_quality(self.service_by_tier[firm, rules.IRON], self.levers["product_quality"][firm],
                                      self.levers["frontline_care"][firm], quality_sensitivity)
        return rules.perceived_value(got, self.levers["price_index"][firm], price_sensitivity,
                                     self.programme["value"][firm] * self.levers["reward_rate"][firm])

    def visibility(self, active_by_firm: np.ndarray) -> np.ndarray:
        """How often each firm's offer is what a customer hears of: half advertising budget, half word of mouth (share)."""
        share = active_by_firm / max(active_by_firm.sum(), 1)
        return 0.5 * self.levers["acquisition_budget"] + 0.5 * share + 1e-9


class Ledger:
    """Each firm's books: customers acquired, won from and lost to rivals, churn by cause, and money.

    Counts are cumulative; `month` holds the running month's flows. For every firm and every month,
    acquired = active + churned (all causes), where acquired includes customers won from rivals and
    churned includes customers lost to rivals (whose cause says why they left, `lost` where they went).
    `switched[a, b]` counts the customers who left firm a for rival b (row sums are `lost`, column sums
    `won`); `recruited` the customers each firm won from the pool of non-customers (its campaigns and
    referrals). A firm that enters late (`add_firm`) starts with empty books at `entered` (a month).
    """

    def __init__(self, n_firms: int, starting_customers: np.ndarray):
        self.n = n_firms
        self.acquired = starting_customers.astype(np.int64)
        self.won = np.zeros(n_firms, np.int64)
        self.lost = np.zeros(n_firms, np.int64)
        self.churned = np.zeros((n_firms, len(rules.CHURN_CAUSES)), np.int64)
        self.switched = np.zeros((n_firms, n_firms), np.int64)
        self.recruited = np.zeros(n_firms, np.int64)
        self.entered = np.zeros(n_firms, np.int64)
        self.revenue, self.cost, self.profit = np.zeros(n_firms), np.zeros(n_firms), np.zeros(n_firms)
        self.retention_history: list[np.ndarray] = []
        self.market_retention_history: list[float] = []
        self.begin_month(np.zeros(n_firms), np.zeros(n_firms, np.int64))

    def add_firm(self, month: int):
        """Books for a firm that enters at `month` (between months): no customers, no money, no history. Its
        retention before it entered is unknown (NaN), so its 12-month retention counts only months it was there."""
        grow = lambda a: np.concatenate([a, np.zeros((1,) + a.shape[1:], a.dtype)])  # noqa: E731
        self.acquired, self.won, self.lost, self.churned = map(grow, (self.acquired, self.won, self.lost, self.churned))
        self.recruited, self.revenue, self.cost, self.profit = map(grow, (self.recruited, self.revenue, self.cost,
                                                                          self.profit))
        self.entered = np.append(self.entered, month)
        self.switched = np.pad(self.switched, ((0, 1), (0, 1)))
        self.retention_history = [np.append(rates, np.nan) for rates in self.retention_history]
        self.n += 1
        for key, value in self.month.items():  # the month's flows so far stay as they were; the newcomer has none
            if key == "switched":
                self.month[key] = np.pad(value, ((0, 1), (0, 1)))
            elif isinstance(value, np.ndarray) and key != "profit_by_tier":
                self.month[key] = grow(value)

    def begin_month(self, fixed_cost: np.ndarray, active_at_start: np.ndarray):
        n = self.n
        self.month = {"revenue": np.zeros(n), "cost": np.zeros(n), "acquisition_cost": np.zeros(n),
                      "fixed_cost": fixed_cost, "new_customers": np.zeros(n, np.int64), "won": np.zeros(n, np.int64),
                      "lost": np.zeros(n, np.int64), "churned": np.zeros((n, len(rules.CHURN_CAUSES)), np.int64),
                      "switched": np.zeros((n, n), np.int64),
                      "active_at_start": active_at_start, "complaints": 0, "recovered": 0, "referrals": 0,
                      "profit_by_tier": np.zeros(len(rules.TIERS))}

    def add_money(self, firm, revenue, cost, tier, profit):
        m = self.month
        if self.n == 1:
            m["revenue"][0] += revenue.sum()
            m["cost"][0] += cost.sum()
        else:
            m["revenue"] += np.bincount(firm, revenue, minlength=self.n)
            m["cost"] += np.bincount(firm, cost, minlength=self.n)
        m["profit_by_tier"] += np.bincount(tier, profit, minlength=len(rules.TIERS))

    def add_exits(self, firm, causes, to_rival, rival):
        """Customers of `firm` leave for `causes`; those with `to_rival` go to firm `rival` (won there)."""
        m = self.month
        np.add.at(m["churned"], (firm, causes), 1)
        m["lost"] += np.bincount(firm[to_rival], minlength=self.n)
        m["won"] += np.bincount(rival[to_rival], minlength=self.n)
        np.add.at(m["switched"], (firm[to_rival], rival[to_rival]), 1)

    def close_month(self):
        m = self.month
        m["cost"] += m["acquisition_cost"] + m["fixed_cost"]
        self.acquired += m["new_customers"] + m["won"]
        self.won += m["won"]
        self.lost += m["lost"]
        self.switched += m["switched"]
        self.recruited += m["new_customers"]
        self.churned += m["churned"]
        self.revenue += m["revenue"]
        self.cost += m["cost"]
        self.profit += m["revenue"] - m["cost"]
        left = m["churned"].sum(axis=1)
        start = m["active_at_start"]
        self.retention_history.append(np.where(start > 0, 1 - left / np.maximum(start, 1), 1.0))
        self.market_retention_history.append(1 - left.sum() / start.sum() if start.sum() else 1.0)

    def retention_12m(self) -> np.ndarray:
        """Each firm's twelve-month retention: the product of its last twelve monthly rates (annualised before month 12)."""
        return _annualised(self.retention_history, np.full(self.n, np.nan))

    def market_retention_12m(self) -> float:
        """The same over all firms' customers together."""
        return float(_annualised(self.market_retention_history, float("nan")))


def _annualised(history, empty):
    history = history[-12:]
    if not history:
        return empty
    if isinstance(empty, np.ndarray) and np.isnan(history[0]).any():  # a firm that entered late: only its months
        months = np.sum(~np.isnan(history), axis=0)
        return np.where(months > 0, np.nanprod(history, axis=0) ** (12 / np.maximum(months, 1)), np.nan)
    return np.prod(history, axis=0) ** (12 / len(history))
