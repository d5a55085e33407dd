"""Cohorts of simulated customers against real retention curves: survival, the sBG benchmark, and calibration.

`cohort_survival` follows newly acquired customers year by year. `sbg_survival` and `fit_sbg` are the
shifted-beta-geometric model of Fader & Hardie (2007), the field's benchmark for such curves: each
customer has a constant yearly churn probability, drawn from a Beta(alpha, beta) distribution across
customers, so a cohort's retention rises with tenure as the churn-prone leave first. Its polarization
index 1 / (alpha + beta + 1) says how different customers are (0 = all alike, 1 = each either stays
forever or leaves at once); published retention curves give about 0.2-0.35.

`fit_retention_curve` calibrates a market to an observed cohort curve by searching a few scenario settings
(`CALIBRATED_SETTINGS`: how unalike customers are, how often rivals lure them, how actively the dissatisfied
search), and forecasts the curve's tail from the calibrated market. `loyalty-lab calibrate` does the same from a
CSV file (`read_curve_csv`) and writes the calibrated market as a scenario file and a figure.
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


# ---------------------------------------------------------------------------------------------- calibration
# The scenario settings `fit_retention_curve` searches by default, each with its range and the scale it is searched on.
# Together they set the three things a cohort curve shows (see simulations/rules.py, `churn_hazards`):
#   proneness_shape - how unalike customers are (Gamma shape of the lasting proneness, mean 1; smaller = more
#                     polarized), so how fast retention rises with tenure; searched on a log scale;
#   lure_rate       - how often rivals' offers reach a customer, scaled by proneness: the churn that sorts a cohort;
#   search_rate     - how actively the dissatisfied shop around, whatever their proneness: the early churn of
#                     customers the firm disappoints, which does not fade with tenure.
CALIBRATED_SETTINGS = {
    "proneness_shape": (0.15, 6.0, "log"),
    "lure_rate": (0.0, 0.4, "linear"),
    "search_rate": (0.0, 1.0, "linear"),
}
GRID_LEVELS = 4  # levels per setting of the coarse grid (4 x 4 x 4 = 64 simulated cohorts for three settings)
SEARCH_CUSTOMERS = 5000  # cohort size inside the search: a quarter of a full cohort, about 1 point of seed noise ...
SEARCH_SEEDS = 2  # ... pooled over two seeds, the same seeds for every candidate (common random numbers)
REFINE_EVALUATIONS = 40  # simulated candidates of the local refinement (Nelder-Mead) ...
SIMPLEX_STEP = 0.06  # ... whose first simplex spans this much of each setting's range (in the unit cube)
PREDICT_CUSTOMERS = 20000  # `predict` and the reported RMSE pool full-size cohorts ...
PREDICT_SEEDS = 4  # ... over four seeds that the search never saw, so the fit is judged on fresh noise
PREDICT_SEED_OFFSET = 1000  # the prediction seeds are seed + 1000, + 1001, ...


def check_observed(observed) -> np.ndarray:
    """`observed` as a float array, or InvalidParameter naming the field, the value and what is allowed.

    Allowed: survival shares at the end of each period, period 0 first (1.0), non-increasing, each in [0, 1],
    at least 3 periods after period 0 and at most 50.
    """
    allowed = ("survival shares from 0 to 1, starting with 1.0 at period 0, never rising, "
               "with 3 to 50 periods after period 0")
    try:
        values = np.asarray(observed, dtype=float)
    except (TypeError, ValueError):
        raise InvalidParameter("calibration", "observed", observed, allowed) from None
    if values.ndim != 1 or not 4 <= len(values) <= 51:
        raise InvalidParameter("calibration", "observed", observed, allowed)
    for period, value in enumerate(values):
        if not 0.0 <= value <= 1.0:  # NaN fails this too
            raise InvalidParameter("calibration", f"observed[{period}]", float(value), "a share from 0 to 1")
    if values[0] != 1.0:
        raise InvalidParameter("calibration", "observed[0]", float(values[0]), "1.0: everyone is there at period 0")
    rising = np.flatnonzero(np.diff(values) > 0)
    if len(rising):
        period = int(rising[0]) + 1
        raise InvalidParameter("calibration", f"observed[{period}]", float(values[period]),
                               f"at most {values[period - 1]:g}, the share at period {period - 1}: survival never rises")
    return values


def check_settings(settings) -> dict:
    """The settings to search, as {name: (low, high, scale)}: None means `CALIBRATED_SETTINGS`.

    `settings` may be a list of scenario setting names (searched over `CALIBRATED_SETTINGS`' range when it has
    one, else over the setting's whole allowed range) or a dict {name: (low, high)}.
    """
    from .errors import match_name
    from .parameters import SETTINGS_BY_NAME

    if settings is None:
        return dict(CALIBRATED_SETTINGS)
    numeric = [name for name, spec in SETTINGS_BY_NAME.items() if not spec.choices and not spec.integer]
    if isinstance(settings, str) or not hasattr(settings, "__iter__") or not 1 <= len(settings) <= 4:
        raise InvalidParameter("calibration", "settings", settings, "1 to 4 numeric scenario setting names, or a dict "
                                                                    "{name: (low, high)}")
    chosen = {}
    for name in settings:
        canonical = match_name(name, numeric, "calibration settings")
        if canonical in chosen:
            raise InvalidParameter("calibration", "settings", name, "each setting once")
        spec = SETTINGS_BY_NAME[canonical]
        low, high, scale = CALIBRATED_SETTINGS.get(canonical, (spec.min, spec.max, "linear"))
        if isinstance(settings, dict):
            try:
                low, high = (float(v) for v in settings[name])
            except (TypeError, ValueError):
                raise InvalidParameter("calibration", canonical, settings[name], "a range (low, high)") from None
            if not spec.min <= low < high <= spec.max:
                raise InvalidParameter("calibration", canonical, settings[name],
                                       f"a range (low, high) with {spec.min:g} <= low < high <= {spec.max:g}")
            scale = "log" if scale == "log" and low > 0 else "linear"
        chosen[canonical] = (low, high, scale)
    return chosen


def _to_settings(unit, space: dict) -> dict:
    """A point of the unit cube -> scenario settings (each axis mapped onto its range, on its scale)."""
    settings = {}
    for u, (name, (low, high, scale)) in zip(np.clip(unit, 0.0, 1.0), space.items()):
        value = low * (high / low) ** u if scale == "log" else low + u * (high - low)
        settings[name] = float(round(value, 6))
    return settings


def _pooled_survival(scenario: dict, periods: int, period_months: int, seeds, n_customers: int, settings: dict):
    """Survival pooled over equal-sized cohorts of several seeds (the mean of their curves)."""
    curves = [cohort_survival(scenario, periods, period_months, seed=s, n_customers=n_customers, **settings)
              for s in seeds]
    return np.mean(curves, axis=0)


def _rmse_points(curve, observed) -> float:
    """Root mean squared difference over periods 1.. (period 0 is 1.0 in both), in percentage points."""
    return float(100 * np.sqrt(np.mean((np.asarray(curve)[1:len(observed)] - observed[1:]) ** 2)))


_GRID_CACHE: dict = {}


def _grid_curves(scenario: dict, space: dict, period_months: int, periods: int, seed: int):
    """Cohort curves over a coarse grid of the unit cube: (points, curves). Cached, as they do not depend on the
    observed curve: a second fit to the same market, settings and length costs only its refinement."""
    key = (tuple(sorted(scenario.items())), tuple(space.items()), period_months, periods, seed)
    if key not in _GRID_CACHE:
        levels = (np.arange(GRID_LEVELS) + 0.5) / GRID_LEVELS
        points = np.array(np.meshgrid(*[levels] * len(space), indexing="ij")).reshape(len(space), -1).T
        curves = np.array([cohort_survival(scenario, periods, period_months, seed=seed, n_customers=SEARCH_CUSTOMERS,
                                           **_to_settings(point, space)) for point in points])
        if len(_GRID_CACHE) >= 8:  # a few markets' grids at most: each is small, but a long session fits many
            _GRID_CACHE.pop(next(iter(_GRID_CACHE)))
        _GRID_CACHE[key] = (points, curves)
    return _GRID_CACHE[key]


def _surrogate_optimum(points, curves, observed, dimensions: int) -> np.ndarray:
    """Where in the unit cube the grid's curves, interpolated between grid points, come closest to `observed`.

    The interpolation (cubic along each setting) costs no simulation, so several starts are cheap; the point it
    finds is only a start for the refinement on simulated cohorts.
    """
    from scipy.interpolate import RegularGridInterpolator
    from scipy.optimize import minimize

    levels = np.unique(points[:, 0])
    grid = curves.reshape((len(levels),) * dimensions + (curves.shape[1],))
    method = "cubic" if len(levels) >= 4 else "linear"
    surrogate = RegularGridInterpolator((levels,) * dimensions, grid, method=method, bounds_error=False, fill_value=None)

    def loss(unit):
        return _rmse_points(np.clip(surrogate(np.clip(unit, 0.0, 1.0)[None, :])[0], 0.0, 1.0), observed)

    errors = [_rmse_points(curve, observed) for curve in curves]
    starts = points[np.argsort(errors)[:3]]
    found = [minimize(loss, start, method="Nelder-Mead", bounds=[(0.0, 1.0)] * dimensions,
                      options={"xatol": 0.005, "fatol": 0.01, "maxfev": 400}) for start in starts]
    return min(found, key=lambda r: r.fun).x


def _nelder_mead(loss, start: np.ndarray):
    """Nelder-Mead in the unit cube from `start`, its first simplex `SIMPLEX_STEP` wide, pointing inwards."""
    from scipy.optimize import minimize

    steps = [SIMPLEX_STEP * np.eye(len(start))[i] * (-1 if start[i] > 0.5 else 1) for i in range(len(start))]
    simplex = np.vstack([start] + [start + step for step in steps])
    return minimize(loss, start, method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(start),
                    options={"initial_simplex": simplex, "maxfev": REFINE_EVALUATIONS, "xatol": 0.01, "fatol": 0.05})


class RetentionFit:
    """A market calibrated to an observed cohort retention curve (made by `fit_retention_curve`).

    Attributes:
        settings: the fitted scenario overrides, {name: value}.
        rmse: fit error in percentage points over the observed periods (1 to the last), of the pooled prediction.
        observed: the observed survival shares (period 0 first).
        scenario: the validated scenario the fit started from (without the fitted overrides).
        period_months: months per period.
        seed: the base seed; the search used seeds seed, seed + 1, the prediction seed + 1000 and up.
        evaluations: how many candidate settings were simulated; seconds: how long the fit took.
    """

    def __init__(self, settings, observed, scenario, period_months, seed, evaluations, seconds):
        self.settings, self.observed, self.scenario = dict(settings), observed, scenario
        self.period_months, self.seed, self.evaluations, self.seconds = period_months, seed, evaluations, seconds
        self._curves: dict[int, list[float]] = {}
        self.rmse = _rmse_points(self.predict(len(observed) - 1), observed)

    def predict(self, periods: int) -> list[float]:
        """Survival shares at periods 0..`periods` (`periods + 1` values, starting at 1.0) of the fitted market.

        Pooled over `PREDICT_SEEDS` cohorts of `PREDICT_CUSTOMERS` customers, so one seed's noise does not decide it.
        """
        _check_whole("periods", periods, 1, 50)
        longest = max(self._curves, default=0)
        if periods > longest:
            seeds = [self.seed + PREDICT_SEED_OFFSET + i for i in range(PREDICT_SEEDS)]
            curve = _pooled_survival(self.scenario, periods, self.period_months, seeds, PREDICT_CUSTOMERS, self.settings)
            self._curves[periods] = [float(x) for x in curve]
            longest = periods
        return self._curves[longest][:periods + 1]  # a longer curve holds the shorter one (same seeds, same months)

    def scenario_with_settings(self) -> dict:
        """The calibrated market: the starting scenario with the fitted settings (a dict `load_scenario` takes)."""
        return {**self.scenario, **self.settings}

    def __repr__(self):
        shown = ", ".join(f"{k}={v:g}" for k, v in self.settings.items())
        return f"RetentionFit({shown}; rmse {self.rmse:.2f} points over {len(self.observed) - 1} periods)"


def fit_retention_curve(observed, scenario="telecom", period_months=12, seed=None, settings=None) -> RetentionFit:
    """Calibrate a market to an observed cohort retention curve, so that it can forecast the curve's tail.

    The search runs in a unit cube over the settings to fit (`CALIBRATED_SETTINGS` by default), each mapped onto
    its range on its scale, in three steps:
      1. a coarse grid (`GRID_LEVELS` per setting) of simulated cohorts of `SEARCH_CUSTOMERS`, one seed; the grid
         does not depend on the observed curve, so it is cached per market, settings, length and seed;
      2. the best point of a cubic interpolation between the grid's curves (no simulation);
      3. from there, Nelder-Mead on simulated cohorts of `SEARCH_CUSTOMERS` pooled over `SEARCH_SEEDS` seeds,
         the same for every candidate (common random numbers, so candidates differ by their settings more than
         by their noise), at most `REFINE_EVALUATIONS` candidates.
    Cohorts in the search are a quarter of the full size, so each candidate costs a fraction of a second. The
    result is judged on full-size cohorts pooled over seeds the search never used. One fit of a 7-period
    yearly curve takes about 30-45 s of one core (measured on the test curves).

    Args:
        observed: survival shares at the end of each period, period 0 first (1.0), as `cohort_survival` returns.
        scenario: the market to calibrate (a name, YAML path or dict); the settings not fitted keep its values.
        period_months: months per period of `observed` (12: yearly).
        seed: the base seed (a whole number); None draws one, so the fit is not reproducible.
        settings: the settings to fit: None (`CALIBRATED_SETTINGS`), a list of numeric scenario setting names,
            or a dict {name: (low, high)}.

    Returns:
        A `RetentionFit` with `.settings`, `.rmse` (percentage points) and `.predict(periods)`.

    Raises:
        InvalidParameter, UnknownField, UnknownScenario: bad input, naming the field, the value and what is allowed.
    """
    import time

    from .scenarios import load_scenario

    start = time.perf_counter()
    observed = check_observed(observed)
    _check_whole("period_months", period_months, 1, 24)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0]) % (2**31 - 2000)  # fresh entropy, as Mesa does
    _check_whole("seed", seed, 0, 2**31 - 1 - PREDICT_SEED_OFFSET - PREDICT_SEEDS)
    space = check_settings(settings)
    base = load_scenario(scenario)
    for name in space:
        base.pop(name, None)  # the fitted settings come from the search, never from the starting scenario
    base_with_defaults = load_scenario(base)  # still a complete scenario: a fitted setting has a default meanwhile
    periods = len(observed) - 1

    points, curves = _grid_curves(base_with_defaults, space, period_months, periods, seed)
    best_point = _surrogate_optimum(points, curves, observed, len(space))

    tried: dict = {}  # every simulated candidate of the refinement, by its settings
    seeds = [seed + i for i in range(SEARCH_SEEDS)]

    def loss(unit):
        candidate = _to_settings(unit, space)
        key = tuple(candidate.values())
        if key not in tried:
            curve = _pooled_survival(base_with_defaults, periods, period_months, seeds, SEARCH_CUSTOMERS, candidate)
            tried[key] = _rmse_points(curve, observed)
        return tried[key]

    result = _nelder_mead(loss, best_point)
    fitted = _to_settings(result.x, space)
    return RetentionFit(fitted, observed, base_with_defaults, period_months, seed, len(points) + len(tried),
                        time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------- files and figures
CURVE_FORMAT = """\
CURVE.csv has two columns, the period and the share of the cohort still there at the end of it
(0 to 1, not a percentage), one row per period, periods 0, 1, 2, ... in order. A header row naming the
columns 'period' and 'survival' is allowed (its columns may then come in any order). Period 0 (1.0) may be
left out.

For example:
  period,survival
  1,0.63
  2,0.47
  3,0.39"""


def read_curve_csv(path) -> np.ndarray:
    """The survival shares in a curve file (see `CURVE_FORMAT`), period 0 first.

    Raises:
        BadInput: the file cannot be read, or a row is not allowed; the message names the line.
    """
    import csv
    from pathlib import Path

    from .errors import BadInput

    field = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise BadInput("CURVE.csv", field, f"cannot be read ({getattr(err, 'strerror', None) or err})",
                       "a readable CSV file of period,survival rows") from None
    rows = [(number, row) for number, row in enumerate(csv.reader(text.splitlines()), 1) if any(c.strip() for c in row)]
    if rows and not _is_number(rows[0][1][0]):
        columns = [c.strip().lower() for c in rows[0][1]]
        if "period" not in columns or "survival" not in columns:
            raise BadInput(f"{field} line {rows[0][0]}", ",".join(rows[0][1]), "is a header without the columns "
                           "'period' and 'survival'", "a header 'period,survival', or no header")
        order = (columns.index("period"), columns.index("survival"))
        rows = rows[1:]
    else:
        order = (0, 1)
    periods, shares = [], []
    for number, row in rows:
        where = f"{field} line {number}"
        try:
            period, share = (row[i].strip() for i in order)
            period_value, share_value = float(period), float(share)
        except (IndexError, ValueError):
            raise BadInput(where, ",".join(row), "is not a row of two numbers", "period,survival, e.g. 1,0.63") from None
        expected = len(periods) + (periods[0] if periods else (0 if period_value == 0 else 1))
        if period_value != expected:
            raise BadInput(where, period, "is not the next period", f"{expected} (periods 0 or 1, 2, 3, ... in order)")
        if not 0.0 <= share_value <= 1.0:
            raise BadInput(where, share, "is not a share of the cohort",
                           "a share from 0 to 1 (write 63% as 0.63)")
        if shares and share_value > shares[-1]:
            raise BadInput(where, share, "is more than the period before: survival never rises",
                           f"at most {shares[-1]:g}")
        if period_value == 0 and share_value != 1.0:
            raise BadInput(where, share, "is not 1.0 at period 0", "1.0 (everyone is there at the start), or leave "
                                                                    "period 0 out")
        periods.append(int(period_value))
        shares.append(share_value)
    if not 3 <= len(shares) - (periods[0] == 0 if periods else 0) <= 50:
        raise BadInput("CURVE.csv", field, f"has {len(shares)} rows", "3 to 50 periods after period 0")
    observed = shares if periods[0] == 0 else [1.0] + shares
    return check_observed(observed)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def calibrated_scenario_yaml(fit: RetentionFit, source: str, name: str) -> str:
    """The calibrated market as a scenario file (YAML) that `load_scenario` accepts, with comments on what was
    fitted to what; every setting is written out, the fitted ones marked."""
    import yaml

    market = fit.scenario["name"]
    scenario = {**fit.scenario_with_settings(), "name": name,
                "description": f"{fit.scenario['description']} Calibrated to the retention curve in {source}.".strip()}
    periods = len(fit.observed) - 1
    lines = [f"# The '{market}' market calibrated by loyalty-lab calibrate to the cohort retention curve in {source}",
             f"# ({periods} periods of {fit.period_months} months, seed {fit.seed}). Fitted: {', '.join(fit.settings)};",
             f"# fit error {fit.rmse:.2f} percentage points (RMSE). The other settings are those of '{market}'."]
    for key, value in scenario.items():
        line = yaml.safe_dump({key: value}, default_flow_style=False, width=1000, allow_unicode=True).strip()
        lines.append(line + ("  # fitted" if key in fit.settings else ""))
    return "\n".join(lines) + "\n"


def plot_calibration(fit: RetentionFit, horizon: int, ax=None):
    """Observed, fitted and forecast survival of a calibrated market on one axis; returns the axis."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.8))
    periods = len(fit.observed) - 1
    predicted = fit.predict(max(horizon, periods))
    unit = "year" if fit.period_months == 12 else f"period of {fit.period_months} months"
    ax.plot(range(periods + 1), 100 * np.asarray(fit.observed), "o", color="black", label="observed")
    ax.plot(range(periods + 1), [100 * s for s in predicted[:periods + 1]], "-", color="tab:blue",
            label=f"calibrated model (RMSE {fit.rmse:.1f} points)")
    if horizon > periods:
        ax.plot(range(periods, horizon + 1), [100 * s for s in predicted[periods:horizon + 1]], "--", color="tab:blue",
                label="forecast")
        ax.axvline(periods, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel(f"{unit}s since acquisition" if fit.period_months == 12 else unit)
    ax.set_ylabel("customers still with the firm (%)")
    ax.set_ylim(0, 102)
    ax.legend(frameon=False)
    return ax
