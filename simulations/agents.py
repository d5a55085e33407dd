"""A customer of the simulated market, as a Mesa agent.

Each `Customer` is one seat in the market: a person who may be a suspect, a prospect, a customer on
some rung of the loyalty ladder, or lost. Their state lives in the model's arrays (`model.people`)
so that the whole base can be updated at once; the properties below read it for one person, and
`step()` lives one month for this person with exactly the rules the model applies to everyone.
When a person dies or moves away, a newcomer takes the seat (the market keeps its size).
"""

from __future__ import annotations

import mesa
import numpy as np

from . import rules


class Customer(mesa.Agent):
    """One person in the market, from suspect to advocate (or lost)."""

    def __init__(self, model, seat: int):
        super().__init__(model)
        self.seat = seat

    def _get(self, name):
        return getattr(self.model.people, name)[self.seat]

    @property
    def stage(self) -> str:
        """Rung of the loyalty ladder: suspect, prospect, disqualified, first_time, repeat, client, advocate, or lost."""
        return rules.STAGES[self._get("stage")]

    @property
    def is_active(self) -> bool:
        """True for customers (first-time up to advocate)."""
        return self._get("stage") in rules.ACTIVE_STAGES

    @property
    def tier(self) -> str:
        """Platinum, gold, iron or lead, from profitability at the last review."""
        return rules.TIERS[self._get("tier")]

    @property
    def satisfaction(self) -> float:
        return float(self._get("satisfaction"))

    @property
    def expectation(self) -> float:
        return float(self._get("expectation"))

    @property
    def products(self) -> int:
        return int(self._get("products"))

    @property
    def switching_cost(self) -> float:
        return float(self._get("switching"))

    @property
    def monthly_profit(self) -> float:
        return float(self._get("profit"))

    @property
    def churn_cause(self) -> str | None:
        """Why this person last left the firm, or None if they never did."""
        code = self._get("churn_cause")
        return None if code < 0 else rules.CHURN_CAUSES[code]

    def step(self):
        """Live one month as a customer: the same rules, in the same order, as the model's vectorised month."""
        if self.is_active:
            self.model.live_month(np.array([self.seat]))

    def __repr__(self):
        return (f"Customer(seat={self.seat}, stage={self.stage}, tier={self.tier}, "
                f"satisfaction={self.satisfaction:.2f})")
