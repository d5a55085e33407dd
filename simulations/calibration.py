"""Cohorts of simulated customers against real retention curves: survival, the sBG benchmark, and calibration.

`cohort_survival` follows newly acquired customers year by year. `sbg_survival` and `fit_sbg` are the
shifted-beta-geometric model of Fader & Hardie (2007), the field's benchmark for such curves: each
customer has a constant yearly churn probability, drawn from a Beta(alpha, beta) distribution across
customers, so a cohort's retention rises with tenure as the churn-prone leave first. Its polarization
index 1 / (alpha + beta + 1) says how different customers are (0 = all alike, 1 = each either stays
forever or leaves at once); published retention curves give about 0.2-0.35.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln

from .errors import InvalidParameter
from .model import LoyaltyMarket


def _check_whole(field, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise InvalidParameter("calibration", field, value, f"a whole number from {low} to {high}")


def cohort_survival(scenario, periods, period_months=12, seed=None, n_customers=20000, strategy=None, **overrides):
    """Share of a cohort of newly acquired customers still with the firm at the end of each period.

    Args:
        scenario: a market name, YAML path or dict, as for `LoyaltyMarket`.
        periods: how many periods to follow the cohort.
        period_months: months per period (12: yearly survival).
        seed: the model's seed.
        n_customers: the cohort's size (every starting customer joins it); 20,000 keeps seed noise near a point.
        strategy: the firm's strategy (balanced by default).
        **overrides: scenario settings by name.

    Returns:
        A list of `periods + 1` shares, starting with 1.0. Someone who leaves and is won back later does
        not count as a survivor.
    """
    _check_whole("periods", periods, 1, 50)
    _check_whole("period_months", period_months, 1, 24)
    model = LoyaltyMarket(scenario, strategy, n_customers, seed=seed, **overrides)
    seats = model.make_cohort()
    incarnation = model.people.incarnation[seats].copy()
    survival = [1.0]
    for _ in range(periods):
        model.run(period_months)
        still = model.active_mask()[seats] & (model.people.incarnation[seats] == incarnation)
        survival.append(float(still.mean()))
    return survival


def sbg_survival(alpha, beta, periods):
    """Survival of the shifted-beta-geometric model at periods 0..`periods` (Fader & Hardie 2007, eq. 2-3)."""
    t = np.arange(periods + 1)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def fit_sbg(observed):
    """Fit the sBG model to survival shares (period 0 first, 1.0); returns (alpha, beta, polarization).

    Least squares on the survival curve over log-parameters, which is stable for short curves.
    """
    observed = np.asarray(observed, dtype=float)
    periods = len(observed) - 1

    def loss(log_ab):
        return float(np.sum((sbg_survival(*np.exp(log_ab), periods) - observed) ** 2))

    best = min((minimize(loss, start, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-12, "maxiter": 4000})
                for start in ([0.0, 1.0], [-1.0, 0.0], [1.0, 2.5])), key=lambda r: r.fun)
    alpha, beta = np.exp(best.x)
    return float(alpha), float(beta), float(1.0 / (alpha + beta + 1.0))
