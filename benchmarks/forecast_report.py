"""The model's forecast of real retention curves against the sBG benchmark (issue 16), at full settings.

For each published curve shipped with the package (Fader & Hardie 2007, Table 1) and each seed: calibrate the
market on years 0-7, forecast years 8-12 with the band, and compare with the sBG fitted to the same years by
maximum likelihood. Prints, per curve and seed, both models' worst and mean errors over the held-out years, whether
the goal holds (the model's worst error at most the sBG's plus one point), how many held-out years the band holds,
and how long the fit took.

    .venv/bin/python benchmarks/forecast_report.py [--market telecom] [--seeds 1,2,3] [--criterion deviance|rmse]
                                                   [--settings proneness_shape,lure_rate,search_rate,tenure_bonding]
"""

import argparse
import time

import numpy as np

from simulations.calibration import PUBLISHED_CURVES, fit_retention_curve, forecast_errors, published_curve

FIT_YEARS, HORIZON, GOAL_MARGIN = 7, 12, 1.0


def report(market: str, seeds, criterion: str = "deviance", settings=None) -> list[dict]:
    rows = []
    for name in PUBLISHED_CURVES:
        observed = published_curve(name)
        for seed in seeds:
            start, cpu = time.perf_counter(), time.process_time()
            fit = fit_retention_curve(observed[:FIT_YEARS + 1], market, seed=seed, horizon=HORIZON, criterion=criterion,
                                      settings=settings)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            model = forecast_errors(fit.predict(HORIZON), observed, FIT_YEARS)
            sbg = forecast_errors(fit.sbg_curve(HORIZON), observed, FIT_YEARS)
            low, high = (np.asarray(x) for x in fit.band(HORIZON))
            held = observed[FIT_YEARS + 1:]
            inside = int(np.sum((low[FIT_YEARS + 1:] <= held) & (held <= high[FIT_YEARS + 1:])))
            row = dict(curve=name, seed=seed, model_worst=model["worst"], model_mean=model["mean"],
                       sbg_worst=sbg["worst"], sbg_mean=sbg["mean"], goal=model["worst"] <= sbg["worst"] + GOAL_MARGIN,
                       in_band=inside, rmse=fit.rmse, seconds=seconds, cpu=cpu, settings=fit.settings)
            rows.append(row)
            shown = ", ".join(f"{k} {v:.3g}" for k, v in fit.settings.items())
            print(f"{name:28s} seed {seed}: model worst {row['model_worst']:.2f} mean {row['model_mean']:.2f} | "
                  f"sBG worst {row['sbg_worst']:.2f} mean {row['sbg_mean']:.2f} | goal {'met' if row['goal'] else 'NOT met'}"
                  f" | band holds {inside}/{len(held)} held-out years | fit RMSE {fit.rmse:.2f} | {seconds:.0f} s ({cpu:.0f} s CPU) | {shown}",
                  flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", default="telecom")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds of the fit")
    parser.add_argument("--criterion", default="deviance", help="what the fit minimises: deviance or rmse")
    parser.add_argument("--settings", default=None,
                        help="comma-separated scenario settings to fit (default: calibration.CALIBRATED_SETTINGS)")
    args = parser.parse_args()
    settings = args.settings.split(",") if args.settings else None
    rows = report(args.market, [int(s) for s in args.seeds.split(",")], args.criterion, settings)
    for name in PUBLISHED_CURVES:
        mine = [r for r in rows if r["curve"] == name]
        worst = [r["model_worst"] for r in mine]
        print(f"{name}: over {len(mine)} seeds, model worst {np.mean(worst):.2f} (from {min(worst):.2f} to "
              f"{max(worst):.2f}: a spread of {max(worst) - min(worst):.2f} points), sBG worst {mine[0]['sbg_worst']:.2f}; goal met for "
              f"{sum(r['goal'] for r in mine)} of {len(mine)} seeds; mean fit time {np.mean([r['seconds'] for r in mine]):.0f} s "
              f"({np.mean([r['cpu'] for r in mine]):.0f} s CPU)")


if __name__ == "__main__":
    main()
