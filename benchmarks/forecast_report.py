"""The model's forecast of real retention curves against the sBG benchmark (issue 16), at full settings.

For each published curve shipped with the package (Fader & Hardie 2007, Table 1) and each seed: calibrate the
market on years 0-7, forecast years 8-12 with the band, and compare with the sBG fitted to the same years by
maximum likelihood. Prints, per curve and seed, both models' worst and mean errors over the held-out years, whether
the goal holds (the model's worst error at most the sBG's plus one point), how many held-out years the band holds,
and how long the fit took.

    .venv/bin/python benchmarks/forecast_report.py [--market telecom] [--seeds 1,2,3] [--criterion deviance|rmse]
                                                   [--settings proneness_shape,lure_rate,search_rate,tenure_bonding]
                                                   [--fix search_rate=0]

A setting in --settings may carry its own range, `name=low:high` (else `calibration.CALIBRATED_SETTINGS`' range, or
the setting's whole allowed range); --fix holds settings of the market at other values than its scenario file's.
The trust page's fit, a contract that holds for a first year and how strongly it holds as a fourth setting:

    --settings proneness_shape,lure_rate,search_rate,contract_lock_in --fix contract_months=12
"""

import argparse
import time

import numpy as np

from simulations.calibration import PUBLISHED_CURVES, check_settings, fit_retention_curve, forecast_errors, published_curve
from simulations.errors import InvalidParameter
from simulations.scenarios import load_scenario

FIT_YEARS, HORIZON, GOAL_MARGIN = 7, 12, 1.0


def parse_settings(text: str | None):
    """`name,name=low:high,...` -> None (the default settings), a list of names, or {name: (low, high)}."""
    if not text:
        return None
    items = [item.strip() for item in text.split(",")]
    if not any("=" in item for item in items):
        return items
    ranges = {}
    for item in items:
        name, _, span = item.partition("=")
        if name in ranges:
            raise InvalidParameter("forecast_report", "settings", name, "each setting once")
        if span:
            low, sep, high = span.partition(":")
            try:
                ranges[name] = (float(low), float(high))
            except ValueError:
                raise InvalidParameter("forecast_report", name, span, "a range low:high, two numbers") from None
            if not sep:
                raise InvalidParameter("forecast_report", name, span, "a range low:high, two numbers")
        else:
            ranges[name] = check_settings([name])[name][:2]
    return ranges


def parse_fixed(text: str | None) -> dict:
    """`name=value,...` -> {name: value}."""
    fixed = {}
    for item in (text.split(",") if text else []):
        name, _, value = item.strip().partition("=")
        try:
            fixed[name] = int(value) if value.strip().lstrip("-").isdigit() else float(value)  # whole-number settings
        except ValueError:
            raise InvalidParameter("forecast_report", name or "--fix", value, "name=number") from None
    return fixed


def report(market, seeds, criterion: str = "deviance", settings=None) -> list[dict]:
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
                        help="comma-separated scenario settings to fit, each name or name=low:high "
                             "(default: calibration.CALIBRATED_SETTINGS)")
    parser.add_argument("--fix", default=None, help="comma-separated name=value: settings held at other values")
    args = parser.parse_args()
    try:
        settings = parse_settings(args.settings)
        market = load_scenario(args.market, **parse_fixed(args.fix))
        check_settings(settings)
        seeds = [int(seed) for seed in args.seeds.split(",")]
    except InvalidParameter as error:  # one line naming the field, the value and what is allowed; exit 2
        parser.error(str(error))
    except ValueError:  # int() of a seed that is not a whole number
        parser.error(f"--seeds: {args.seeds!r} is not allowed; allowed: whole numbers, comma-separated")
    rows = report(market, seeds, args.criterion, settings)
    for name in PUBLISHED_CURVES:
        mine = [r for r in rows if r["curve"] == name]
        worst = [r["model_worst"] for r in mine]
        print(f"{name}: over {len(mine)} seeds, model worst {np.mean(worst):.2f} (from {min(worst):.2f} to "
              f"{max(worst):.2f}: a spread of {max(worst) - min(worst):.2f} points), sBG worst {mine[0]['sbg_worst']:.2f}; goal met for "
              f"{sum(r['goal'] for r in mine)} of {len(mine)} seeds; mean fit time {np.mean([r['seconds'] for r in mine]):.0f} s "
              f"({np.mean([r['cpu'] for r in mine]):.0f} s CPU)")


if __name__ == "__main__":
    main()
