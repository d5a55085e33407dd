"""The model's speed at an earlier commit and now, side by side: set-up and a month at four sizes.

Run on demand:  .venv/bin/python benchmarks/compare_versions.py REF   (REF: a commit, tag or branch; e.g. HEAD~3)
REF is checked out in a temporary git worktree. Each measurement runs in a fresh process, the two versions take
turns so that a busy machine slows both alike, and the table shows medians.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = ((2_000, 60, 7), (20_000, 24, 5), (100_000, 12, 5), (1_000_000, 3, 2))  # customers, months, repeats
PROBE = r'''
import json, sys, time
from simulations import LoyaltyMarket
n, months = int(sys.argv[1]), int(sys.argv[2])
LoyaltyMarket("telecom", "balanced", 1000, seed=0).run(2)  # imports and first-call costs are not set-up
start = time.perf_counter(); model = LoyaltyMarket("telecom", "balanced", n, seed=1); setup = time.perf_counter() - start
start = time.perf_counter(); model.run(months); month = (time.perf_counter() - start) / months
print(json.dumps([setup, month]))
'''


def measure(tree: Path, n: int, months: int) -> list[float]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(n), str(months)], cwd=tree, capture_output=True, text=True,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
    if done.returncode:
        sys.exit(f"the model at {tree} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main(ref: str):
    with tempfile.TemporaryDirectory() as folder:
        old = Path(folder) / "old"
        added = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), ref],
                               capture_output=True, text=True)
        if added.returncode:
            print(f"REF: {ref!r} is not a commit, tag or branch of this repository ({added.stderr.strip()})", file=sys.stderr)
            sys.exit(2)
        try:
            print(f"{'customers':>9}  {'a month: ' + ref:>24} {'now':>9} {'speed-up':>8}   "
                  f"{'set-up: ' + ref:>22} {'now':>9}   set-up / two months")
            for n, months, repeats in SIZES:
                runs = {"old": [], "new": []}
                for _ in range(repeats):
                    runs["old"].append(measure(old, n, months))
                    runs["new"].append(measure(ROOT, n, months))
                (setup_old, month_old), (setup_new, month_new) = (
                    [statistics.median(column) for column in zip(*runs[k])] for k in ("old", "new"))
                print(f"{n:>9,}  {month_old * 1e3:21.2f} ms {month_new * 1e3:6.2f} ms {month_old / month_new:7.2f}x   "
                      f"{setup_old * 1e3:19.1f} ms {setup_new * 1e3:6.1f} ms   "
                      f"{setup_old / (2 * month_old):.2f} -> {setup_new / (2 * month_new):.2f}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], capture_output=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: compare_versions.py REF   (a commit, tag or branch to compare with the working tree)", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
