"""Print the model's headline outcomes and stylized-fact measures for every scenario and preset.

Run on demand while tuning: .venv/bin/python benchmarks/calibration_report.py [months] [customers]
"""

import sys

import numpy as np

from simulations import LoyaltyMarket, list_scenarios
from simulations.metrics import retention_by_satisfaction, top_share
from simulations.rules import CHURN_CAUSES


def main(months=36, customers=2000, seeds=(1, 2)):
    for scenario in list_scenarios():
        for preset in ("neglect", "balanced", "tiered", "bonding"):
            rows = []
            for seed in seeds:
                m = LoyaltyMarket(scenario, preset, customers, seed=seed).run(months)
                s, table = m.summary(), m.customer_table()
                churn = np.array([s["churned"][c] for c in CHURN_CAUSES], float)
                lead_profit = table.loc[table.tier == "lead", "monthly_profit"].sum()
                df = m.datacollector.get_model_vars_dataframe()
                rows.append([s["active"] / customers, s["retention_12m"], s["mean_satisfaction"], s["nps"], s["profit"] / 1e3,
                             top_share(table.monthly_profit), lead_profit, *(churn / max(churn.sum(), 1)),
                             df.quadrant_hostage.iloc[-1] / s["active"], df.loyalty_spurious.iloc[-1] / s["active"],
                             *(np.array([s["tiers"][t] for t in ("platinum", "gold", "iron", "lead")]) / s["active"])])
            r = np.mean(rows, axis=0)
            print(f"{scenario:12s} {preset:9s} base {r[0]:.2f} ret {r[1]:.2f} sat {r[2]:.2f} nps {r[3]:6.1f} "
                  f"profit {r[4]:7.1f}k top20 {r[5]:.2f} leadP {r[6]:7.0f} | churn "
                  + " ".join(f"{c[:5]} {v:.2f}" for c, v in zip(CHURN_CAUSES, r[7:13]))
                  + f" | host {r[13]:.2f} spur {r[14]:.2f} | tiers " + " ".join(f"{v:.2f}" for v in r[15:19]))
    for ci in (0.05, 0.9):
        m = LoyaltyMarket("telecom", "balanced", customers, seed=3, competitive_intensity=ci).run(12)
        band = retention_by_satisfaction(m, 12)
        print(f"competitive_intensity {ci}: " + "  ".join(f"{b.band}: {b.retention:.2f} (n={b.customers})" for b in band.itertuples()))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
