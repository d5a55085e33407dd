"""What the model measures: the monthly record, the customer table, and analyses the chapters share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import rules
from .errors import InvalidParameter
from .population import Selection


def _customer_views(model, seats):
    """Attitude, patronage and classifications of the customers in `seats` (seats or a `Selection`; arrays)."""
    c, sc = Selection.of(model.people, seats), model.scenario
    attitude = rules.relative_attitude(c.satisfaction, c.social, c.customization)
    patronage = c.share_of_wallet
    stay_12m = (1 - c.voluntary_hazard) ** 12
    points_tie = rules.points_bond(c.points, c.spend, model.firm_book.programme_of("lock_in", c.firm))
    return {
        "attitude": attitude,
        "patronage": patronage,
        "stay_12m": stay_12m,
        "dick_basu": rules.dick_basu_type(attitude, patronage),
        "quadrant": rules.jones_sasser_quadrant(c.satisfaction, stay_12m),
        "motive": rules.loyalty_motive(attitude, patronage, c.satisfaction, sc["competitive_intensity"],
                                       c.switching, points_tie, c.price_sensitivity, 0.5 * (c.social + c.customization)),
    }


def census(model) -> tuple:
    """The counts and sums behind the monthly record, from the customers' arrays (the readable reference).

    (sums of satisfaction, expectation, switching cost, share of wallet, neglect and products over customers;
    counts of stages over everyone; of tiers, Dick & Basu types, quadrants and motives over customers;
    promoters and detractors; customers by firm and their satisfaction summed by firm). The fast engine
    computes the same in one compiled pass (`kernel.census`).
    """
    p, n_firms = model.people, len(model.firms)
    c = Selection(p, np.flatnonzero(model.active_mask()))  # each attribute gathered once for all the month's figures
    views = _customer_views(model, c)
    scores = rules.recommend_score(c.satisfaction)
    sums = np.array([c.satisfaction.sum(), c.expectation.sum(), c.switching.sum(), c.share_of_wallet.sum(),
                     c.neglect.sum(), c.products.sum()], dtype=float)
    return (sums, np.bincount(p.stage, minlength=len(rules.STAGES)), np.bincount(c.tier, minlength=len(rules.TIERS)),
            np.bincount(views["dick_basu"], minlength=len(rules.DICK_BASU_TYPES)),
            np.bincount(views["quadrant"], minlength=len(rules.QUADRANTS)),
            np.bincount(views["motive"], minlength=len(rules.LOYALTY_MOTIVES)),
            np.array([np.count_nonzero(scores >= 9), np.count_nonzero(scores <= 6)]),
            np.bincount(c.firm, minlength=n_firms), np.bincount(c.firm, c.satisfaction, minlength=n_firms))


def _kernel():
    from . import kernel  # on first use, as in model.py: numba takes a moment to import
    return kernel


def month_record(model) -> dict:
    """Everything the data collector stores for the current month, as one flat dict.

    Churn and acquisition columns are cumulative counts; money columns are this month's. In a market of
    rival firms (`LoyaltyMarket(firms=...)`) each firm also has columns named `metric[firm]`: active,
    market_share, new_customers (this month, from the pool), won_from_rivals and lost_to_rivals
    (cumulative), churned (cumulative, all causes, lost_to_rivals included), revenue and profit (this
    month), cumulative_profit, mean_satisfaction and retention_12m; acquired (cumulative, won_from_rivals
    included), so that for every firm and month acquired = active + churned.
    """
    m, totals = model.ledger.month, model.totals
    counted = _kernel().census(model) if model.engine == "fast" else census(model)
    sums, stages, tiers, loyalty, quadrants, motives, nps, by_firm, satisfaction_by_firm = counted
    active = int(by_firm.sum())
    mean = sums / max(active, 1)
    revenue, cost = float(m["revenue"].sum()), float(m["cost"].sum())
    record = {
        "month": model.month,
        "active": active,
        "new_customers": int(m["new_customers"].sum()),
        "acquired": totals["acquired"],
        **{f"churned_{cause}": totals["churned"][cause] for cause in rules.CHURN_CAUSES},
        "churned": sum(totals["churned"].values()),
        "retention_12m": model.retention_12m(),
        "mean_satisfaction": float(mean[0]) if active else float("nan"),
        "mean_expectation": float(mean[1]) if active else float("nan"),
        "nps": 100.0 * (nps[0] / active - nps[1] / active) if active else 0.0,  # rules.net_promoter_score, counted
        "revenue": revenue,
        "cost": cost,
        "profit": revenue - cost,
        "acquisition_cost": float(m["acquisition_cost"].sum()),
        "cumulative_profit": totals["profit"],
        "complaints": m["complaints"],
        "recovered": m["recovered"],
        "referrals": m["referrals"],
        "mean_switching_cost": float(mean[2]),
        "mean_share_of_wallet": float(mean[3]),
        "mean_neglect": float(mean[4]),
        "mean_products": float(mean[5]),
        **_named(tiers, rules.TIERS, "tier"),
        **{f"profit_{t}": float(v) for t, v in zip(rules.TIERS, m["profit_by_tier"])},
        **_named(stages, rules.STAGES, "stage"),
        **_named(loyalty, rules.DICK_BASU_TYPES, "loyalty"),
        **_named(quadrants, rules.QUADRANTS, "quadrant"),
        **_named(motives, rules.LOYALTY_MOTIVES, "motive"),
    }
    if model.rivals_are_real:
        record.update(_firm_columns(model, by_firm, satisfaction_by_firm))
    return record


def _named(counts, names, prefix):
    return {f"{prefix}_{name}": int(c) for name, c in zip(names, counts)}


def _firm_columns(model, counts, satisfaction_sums) -> dict:
    """The per-firm columns of the monthly record (see `month_record`): customers and their satisfaction summed, by firm."""
    ledger, m = model.ledger, model.ledger.month
    satisfaction = satisfaction_sums / np.maximum(counts, 1)
    retention = ledger.retention_12m()
    everyone = max(int(counts.sum()), 1)
    columns = {}
    for i, name in enumerate(model.firms):
        columns.update({
            f"active[{name}]": int(counts[i]), f"market_share[{name}]": counts[i] / everyone,
            f"new_customers[{name}]": int(m["new_customers"][i]), f"acquired[{name}]": int(ledger.acquired[i]),
            f"won_from_rivals[{name}]": int(ledger.won[i]),
            f"lost_to_rivals[{name}]": int(ledger.lost[i]), f"churned[{name}]": int(ledger.churned[i].sum()),
            f"revenue[{name}]": float(m["revenue"][i]), f"profit[{name}]": float(m["revenue"][i] - m["cost"][i]),
            f"cumulative_profit[{name}]": float(ledger.profit[i]),
            f"mean_satisfaction[{name}]": float(satisfaction[i]) if counts[i] else float("nan"),
            f"retention_12m[{name}]": float(retention[i]),
        })
    return columns


def customer_table(model) -> pd.DataFrame:
    """One row per current customer, for analyses such as the whale curve or satisfaction bands."""
    p = model.people
    seats = np.flatnonzero(model.active_mask())
    views = _customer_views(model, seats)
    return pd.DataFrame({
        "seat": seats,
        "firm": np.array(model.firms)[p.firm[seats]],
        "stage": np.array(rules.STAGES)[p.stage[seats]],
        "tier": np.array(rules.TIERS)[p.tier[seats]],
        "satisfaction": p.satisfaction[seats],
        "expectation": p.expectation[seats],
        "monthly_profit": p.profit_ema[seats],
        "spend": p.spend[seats],
        "share_of_wallet": p.share_of_wallet[seats],
        "products": p.products[seats],
        "tenure": p.tenure[seats],
        "switching_cost": p.switching[seats],
        "neglect": p.neglect[seats],
        "good_fit": p.good_fit[seats],
        "stay_12m": views["stay_12m"],
        "dick_basu": np.array(rules.DICK_BASU_TYPES)[views["dick_basu"]],
        "quadrant": np.array(rules.QUADRANTS)[views["quadrant"]],
        "motive": np.array(rules.LOYALTY_MOTIVES)[views["motive"]],
    })


def whale_curve(monthly_profit) -> pd.DataFrame:
    """Cumulative share of total profit against the share of customers, most profitable first (Kaplan & Narayanan 2001).

    The curve rises above 100% and falls back as unprofitable customers are added: its peak shows how
    much profit the loss-making customers destroy.
    """
    profit = np.sort(np.asarray(monthly_profit, dtype=float))[::-1]
    total = profit.sum()
    return pd.DataFrame({
        "share_of_customers": np.arange(1, len(profit) + 1) / len(profit),
        "share_of_profit": np.cumsum(profit) / total if total else np.zeros(len(profit)),
    })


def top_share(monthly_profit, top=0.2) -> float:
    """Share of total profit earned by the most profitable `top` fraction of customers."""
    profit = np.sort(np.asarray(monthly_profit, dtype=float))[::-1]
    k = max(1, int(round(top * len(profit))))
    return float(profit[:k].sum() / profit.sum())


SATISFACTION_BANDS = ((0.0, 0.4, "very dissatisfied"), (0.4, 0.55, "dissatisfied"), (0.55, 0.7, "neutral"),
                      (0.7, 0.85, "satisfied"), (0.85, 1.01, "completely satisfied"))


def retention_by_satisfaction(model, months: int = 12) -> pd.DataFrame:
    """Run `months` more and report, by satisfaction band at the start, the share of customers still there.

    This is Jones & Sasser's (1995) picture: retention against satisfaction, band by band. The model is
    advanced by `months`. Customers who die or move away count as lost like any other.
    """
    p = model.people
    seats = np.flatnonzero(model.active_mask())
    satisfaction, incarnation = p.satisfaction[seats].copy(), p.incarnation[seats].copy()
    model.run(months)
    stayed = model.active_mask()[seats] & (p.incarnation[seats] == incarnation)
    rows = []
    for low, high, name in SATISFACTION_BANDS:
        band = (satisfaction >= low) & (satisfaction < high)
        rows.append({"band": name, "low": low, "customers": int(band.sum()),
                     "retention": float(stayed[band].mean()) if band.any() else float("nan")})
    return pd.DataFrame(rows)


def outcomes(model, firm: str | None = None) -> dict:
    """Headline outcomes of a finished run as one flat dict (money summed over the run; counts and shares at the end).

    The one place that says what a run achieved: challenges grade these, sweeps and tournaments tabulate them.
    With `firm` (a name in `model.firms`), the same outcomes for that firm alone, from its books
    (`model.ledger`) and its own customers, plus `market_share`, `won_from_rivals` and `lost_to_rivals`.
    The ledger keeps money by firm but not by firm and tier, so a firm's outcomes have no `profit_<tier>`.
    """
    if firm is not None:
        return _firm_outcomes(model, firm)
    df = model.datacollector.get_model_vars_dataframe()
    last, summary = df.iloc[-1], model.summary()
    active = max(int(last["active"]), 1)
    result = {key: summary[key] for key in ("profit", "revenue", "cost", "retention_12m", "mean_satisfaction", "nps")}
    result.update(active=int(summary["active"]), acquired=int(summary["acquired"]), churned=int(last["churned"]))
    result.update({f"churned_{cause}": int(last[f"churned_{cause}"]) for cause in rules.CHURN_CAUSES})
    result.update({f"profit_{tier}": float(df[f"profit_{tier}"].sum()) for tier in rules.TIERS})
    result.update({f"tier_{tier}": int(last[f"tier_{tier}"]) for tier in rules.TIERS})
    result.update(mean_switching_cost=float(last["mean_switching_cost"]), mean_products=float(last["mean_products"]))
    result.update({f"share_{q}": last[f"quadrant_{q}"] / active for q in rules.QUADRANTS})
    result.update(share_true_loyalty=last["loyalty_true"] / active, share_spurious_loyalty=last["loyalty_spurious"] / active,
                  upper_rungs=int(last["stage_client"] + last["stage_advocate"]), advocates=int(last["stage_advocate"]))
    return result


def _firm_outcomes(model, firm: str) -> dict:
    """`outcomes` for one firm: its ledger (money, acquired, churned by cause) and its customers now (the rest)."""
    if firm not in model.firms:
        raise InvalidParameter("outcomes", "firm", firm, ', '.join(model.firms))
    i, p, ledger = model.firms.index(firm), model.people, model.ledger
    everyone = np.flatnonzero(model.active_mask())
    seats = everyone[p.firm[everyone] == i]
    views = _customer_views(model, seats)

    def share(mask):  # of this firm's customers
        return float(np.count_nonzero(mask)) / max(len(seats), 1)

    stages = p.stage[seats]
    result = {
        "profit": float(ledger.profit[i]), "revenue": float(ledger.revenue[i]), "cost": float(ledger.cost[i]),
        "retention_12m": float(ledger.retention_12m()[i]),
        "mean_satisfaction": float(p.satisfaction[seats].mean()) if len(seats) else float("nan"),
        "nps": rules.net_promoter_score(rules.recommend_score(p.satisfaction[seats])),
        "active": len(seats), "acquired": int(ledger.acquired[i]), "churned": int(ledger.churned[i].sum()),
    }
    result.update({f"churned_{cause}": int(n) for cause, n in zip(rules.CHURN_CAUSES, ledger.churned[i])})
    result.update({f"tier_{tier}": int(np.count_nonzero(p.tier[seats] == k)) for k, tier in enumerate(rules.TIERS)})
    result.update(mean_switching_cost=float(p.switching[seats].mean()) if len(seats) else 0.0,
                  mean_products=float(p.products[seats].mean()) if len(seats) else 0.0)
    result.update({f"share_{q}": share(views["quadrant"] == k) for k, q in enumerate(rules.QUADRANTS)})
    loyalty = rules.DICK_BASU_TYPES
    result.update(share_true_loyalty=share(views["dick_basu"] == loyalty.index("true")),
                  share_spurious_loyalty=share(views["dick_basu"] == loyalty.index("spurious")),
                  upper_rungs=int(np.count_nonzero((stages == rules.STAGES.index("client"))
                                                   | (stages == rules.STAGES.index("advocate")))),
                  advocates=int(np.count_nonzero(stages == rules.STAGES.index("advocate"))))
    result.update(market_share=len(seats) / max(len(everyone), 1), won_from_rivals=int(ledger.won[i]),
                  lost_to_rivals=int(ledger.lost[i]))
    return result
