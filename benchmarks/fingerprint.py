"""A fingerprint of the model's runs: compare it before and after a change meant to leave every number alone.

Run on demand:  .venv/bin/python benchmarks/fingerprint.py            prints the hashes of the working tree
                .venv/bin/python benchmarks/fingerprint.py --check    compares them with benchmarks/fingerprint.json
                .venv/bin/python benchmarks/fingerprint.py --rebase   stores them there, for a change meant to move numbers
Each entry is a SHA-256 (first 16 hex digits) of a run's monthly record, every `People` array, the ledger and the
customer table, over the four markets and presets, fierce competition, rival firms, the agents engine, Jones &
Sasser's bands and a cohort (the fast engine, the default, unless a run names another). A speed-up that changes
none of them changes no figure in the book.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np

from simulations import LoyaltyMarket
from simulations.calibration import cohort_survival
from simulations.metrics import retention_by_satisfaction

STORED = Path(__file__).with_name("fingerprint.json")
RUNS = {
    "telecom-balanced": lambda: LoyaltyMarket("telecom", "balanced", 5000, seed=1).run(36),
    "bank-neglect": lambda: LoyaltyMarket("retail_bank", "neglect", 3000, seed=2).run(30),
    "coffee-tiered": lambda: LoyaltyMarket("coffee_chain", "tiered", 3000, seed=3).run(30),
    "utility-bonding": lambda: LoyaltyMarket("utility", "bonding", 3000, seed=4).run(30),
    "telecom-intensity-0.9": lambda: LoyaltyMarket("telecom", "balanced", 3000, seed=5, competitive_intensity=0.9).run(30),
    "three-rivals": lambda: LoyaltyMarket("telecom", firms={"a": "balanced", "b": "neglect", "c": "bonding"},
                                          n_customers=3000, seed=6).run(30),
    "numpy-engine": lambda: LoyaltyMarket("telecom", "balanced", 3000, seed=1, engine="numpy").run(24),
    "agents-engine": lambda: LoyaltyMarket("telecom", "balanced", 200, seed=7, engine="agents").run(6),
}


def short_hash(*chunks: bytes) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()[:16]


def market_fingerprint(model) -> str:
    frame = model.datacollector.get_model_vars_dataframe().to_csv(float_format="%.17g").encode()
    people = [np.ascontiguousarray(getattr(model.people, f.name)).tobytes() for f in fields(model.people)]
    ledger = [np.ascontiguousarray(a).tobytes() for a in (model.ledger.revenue, model.ledger.cost, model.ledger.churned,
                                                           model.ledger.won, model.ledger.lost)]
    table = model.customer_table().to_csv(float_format="%.17g").encode()
    return short_hash(frame, *people, *ledger, table)


def main():
    prints = {name: market_fingerprint(make()) for name, make in RUNS.items()}
    bands = retention_by_satisfaction(LoyaltyMarket("telecom", "balanced", 3000, seed=8).run(3), 12)
    prints["jones-sasser-bands"] = short_hash(bands.to_csv(float_format="%.17g").encode())
    prints["cohort"] = short_hash(np.array(cohort_survival("telecom", 4, seed=3, n_customers=3000)).tobytes())
    if "--rebase" in sys.argv:
        STORED.write_text(json.dumps(prints, indent=1) + "\n", encoding="utf-8")
        print(f"stored in {STORED.name}")
    elif "--check" in sys.argv:
        stored = json.loads(STORED.read_text(encoding="utf-8"))
        changed = sorted(name for name in prints.keys() | stored.keys() if prints.get(name) != stored.get(name))
        print("every run as stored" if not changed else f"runs that changed: {', '.join(changed)}")
        sys.exit(1 if changed else 0)
    print(json.dumps(prints, indent=1))


if __name__ == "__main__":
    main()
