"""The patterns the model must show (issue 7 / DESIGN.md), measured for every built-in market.

Run on demand when retuning a market:  .venv/bin/python benchmarks/pattern_report.py [--quick]
Prints Jones & Sasser's band retentions (telecom, balanced, 20,000 customers, seeds 1-3, 24 months'
warm-up, 12 months followed) at competitive intensity 0.9 and 0.05; each market's base-wide 12-month
retention, pyramid (tier sizes and profit), quadrant shares; and each market's cohort polarization
(sBG fitted to 12 years) with year-1 and year-5 retention.
"""

from __future__ import annotations

import sys

import numpy as np

from simulations import LoyaltyMarket, list_scenarios
from simulations.calibration import cohort_survival, fit_sbg
from simulations.metrics import retention_by_satisfaction
from simulations.rules import QUADRANTS, TIERS


def band_retention(intensity, customers, seeds):
    frames = [retention_by_satisfaction(LoyaltyMarket("telecom", "balanced", customers, seed=seed,
                                                      competitive_intensity=intensity).run(24), 12)
              .set_index("band")["retention"] for seed in seeds]
    return np.mean(frames, axis=0), frames[0].index


def main(quick=False):
    customers, seeds = (5000, (1,)) if quick else (20000, (1, 2, 3))
    for intensity in (0.9, 0.05):
        values, bands = band_retention(intensity, customers, seeds)
        print(f"intensity {intensity}: " + ", ".join(f"{b} {v:.3f}" for b, v in zip(bands, values)))
    for name in list_scenarios():
        model = LoyaltyMarket(name, "balanced", 2000, seed=1).run(36)
        df, r = model.datacollector.get_model_vars_dataframe(), model._record
        tiers = {t: r[f"tier_{t}"] for t in TIERS}
        profit = {t: df[f"profit_{t}"].iloc[-12:].sum() for t in TIERS}
        quads = {q: r[f"quadrant_{q}"] / r["active"] for q in QUADRANTS}
        table = model.customer_table()
        clients = table[table.stage.isin(["client", "advocate"])]
        print(f"{name}: retention_12m {r['retention_12m']:.3f}  tiers {tiers}  last-year profit "
              + " ".join(f"{t} {v:,.0f}" for t, v in profit.items()))
        print(f"   quadrants " + " ".join(f"{q} {v:.2f}" for q, v in quads.items())
              + f"  clients+advocates {len(clients) / len(table):.2f} (min satisfaction {clients.satisfaction.min():.2f})"
              + f"  churn {model.summary()['churned']}")
        survival = cohort_survival(name, 12, seed=1, n_customers=customers)
        alpha, beta, polarization = fit_sbg(survival)
        yearly = [survival[t] / survival[t - 1] for t in range(1, 13)]
        print(f"   cohort: polarization {polarization:.3f}, yearly retention year 1 {yearly[0]:.3f}, year 5 {yearly[4]:.3f}, "
              f"year 12 {yearly[11]:.3f}; survival " + " ".join(f"{s:.2f}" for s in survival))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
