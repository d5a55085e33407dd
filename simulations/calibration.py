"""Cohorts of simulated customers against real retention curves: survival, the sBG benchmark, and calibration.

`cohort_survival` follows newly acquired customers year by year. `sbg_survival` and `fit_sbg` are the
shifted-beta-geometric model of Fader & Hardie (2007), the field's benchmark for such curves: each
customer has a constant yearly churn probability, drawn from a Beta(alpha, beta) distribution across
customers, so a cohort's retention rises with tenure as the churn-prone leave first. Its polarization
index 1 / (alpha + beta + 1) says how different customers are (0 = all alike, 1 = each either stays
forever or leaves at once); published retention curves give about 0.2-0.35.

`fit_retention_curve` calibrates a market to an observed cohort curve by searching a few scenario settings
(`CALIBRATED_SETTINGS`: how unalike customers are, how often rivals lure them, how actively the dissatisfied
search), and forecasts the curve's tail from the calibrated market, with a band for what the seeds and the fit leave
uncertain (`RetentionFit.band`) and the sBG fitted to the same periods beside it (`RetentionFit.sbg_curve`).
`forecast_errors` measures a forecast on held-out periods. `loyalty-lab calibrate` does the same from a CSV file
(`read_curve_csv`), or from a published curve shipped in simulations/data/ (`published_curve`), and writes the
calibrated market as a scenario file and a figure.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln

from .errors import InvalidParameter
from .i18n import _, format_number
from .model import LoyaltyMarket
from .result_cache import cache_folder, is_seed, remembered
from .scenarios import load_scenario


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
    if cache_folder() is None or not is_seed(seed):
        return _simulate_cohort(scenario, periods, period_months, seed, n_customers, strategy, overrides)
    # a seeded cohort is the same every time: kept on disk when the cache is on (result_cache.py)
    asked = dict(scenario=load_scenario(scenario, **overrides), periods=int(periods), period_months=int(period_months),
                 seed=int(seed), n_customers=int(n_customers), strategy=strategy)
    return remembered("cohort_survival", asked,
                      lambda: _simulate_cohort(scenario, periods, period_months, seed, n_customers, strategy, overrides))


def _simulate_cohort(scenario, periods, period_months, seed, n_customers, strategy, overrides) -> list[float]:
    model = LoyaltyMarket(scenario, strategy, n_customers, seed=seed, **overrides)
    seats = model.make_cohort()
    incarnation = model.people.incarnation[seats].copy()
    survival = [1.0]
    for _ in range(periods):
        for _ in range(period_months):
            model.step(record=False)  # only who is still here is read, not the monthly record
        still = model.active_mask()[seats] & (model.people.incarnation[seats] == incarnation)
        survival.append(float(still.mean()))
    return survival


def sbg_survival(alpha, beta, periods):
    """Survival of the shifted-beta-geometric model at periods 0..`periods` (Fader & Hardie 2007, eq. 2-3)."""
    t = np.arange(periods + 1)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def fit_sbg(observed, method="least_squares"):
    """Fit the sBG model to survival shares (period 0 first, 1.0); returns (alpha, beta, polarization).

    `method`: "least_squares" on the survival curve, over log-parameters, stable for short curves (used to
    read a curve's polarization); or "likelihood", Fader & Hardie's (2007) maximum likelihood, in which each
    period's leavers and the last period's survivors count (the shares stand for a cohort of any size: the
    size does not move the maximum). The likelihood fit is the benchmark `fit_retention_curve` compares its
    forecast with: on the curves of Fader & Hardie's Table 1 it gives their published parameters.
    """
    if method not in ("least_squares", "likelihood"):
        raise InvalidParameter("calibration", "method", method, "one of least_squares, likelihood")
    observed = np.asarray(observed, dtype=float)
    periods = len(observed) - 1
    leavers, survivors = -np.diff(observed), observed[-1]

    def squares(log_ab):
        return float(np.sum((sbg_survival(*np.exp(log_ab), periods) - observed) ** 2))

    def negative_log_likelihood(log_ab):
        survival = sbg_survival(*np.exp(log_ab), periods)
        leaving = np.maximum(-np.diff(survival), 1e-300)  # P(T = t), t = 1..periods
        return float(-(leavers @ np.log(leaving) + survivors * np.log(max(survival[-1], 1e-300))))

    loss = squares if method == "least_squares" else negative_log_likelihood
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
# A fourth is worth fitting where contracts run for a term (a market with `contract_months`): `contract_lock_in`, how
# strongly the first term holds. Leavers then gather where terms end, a rise of churn after the first year that
# sorting alone cannot make (the trust page fits Fader & Hardie's curves so, and meets the forecast goal with it).
CALIBRATED_SETTINGS = {
    "proneness_shape": (0.15, 6.0, "log"),
    "lure_rate": (0.0, 0.4, "linear"),
    "search_rate": (0.0, 1.0, "linear"),
}
GRID_LEVELS = 4  # levels per setting of the coarse grid (4 x 4 x 4 = 64 simulated cohorts for three settings)
SEARCH_CUSTOMERS = 5000  # cohort size of the grid: a quarter of a full cohort, about 1 point of seed noise
# The refinement fits a response surface: around the best point so far, a small design of candidate settings (a box
# `LOCAL_HALF_WIDTH` of the unit cube to each side) is simulated, each period's survival is fitted by a quadratic in
# the settings (least squares, each point weighted by its customers), and the criterion is minimised on that smooth
# surface, not on single noisy cohorts: a design point's noise is averaged with its neighbours'. Stage by stage
# (customers per cohort, seeds per point, the same seeds at every point of a stage: common random numbers), the
# design is simulated again around the last stage's optimum with more customers; the last fit pools both stages.
# Without it, the refinement compared single noisy candidates, and seed-to-seed differences in the fitted settings
# moved the forecast by more than the band showed.
LOCAL_HALF_WIDTH = 0.12
LOCAL_STAGES = ((5000, 2), (20000, 2))
LOCAL_MOVES = (4, 1)  # per stage: an optimum on its box's edge (inside the cube) moves the box there, at most this often
PREDICT_CUSTOMERS = 20000  # `predict` and the reported RMSE pool full-size cohorts ...
PREDICT_SEEDS = 4  # ... over four seeds that the search never saw, so the fit is judged on fresh noise
PREDICT_SEED_OFFSET = 1000  # the prediction seeds are seed + 1000, + 1001, ...
# The forecast band: what the seeds and the fit leave uncertain. Each replicate refits the market to the fitted curve
# plus the fit's own residuals with random signs (a wild bootstrap of the fit), on the grid's interpolation (no
# simulation), and simulates its settings on one full-size cohort of its own seed; the band is the range of those
# curves and of the prediction's own per-seed cohorts.
BAND_REPLICATES = 12
BAND_SEED_OFFSET = PREDICT_SEED_OFFSET + PREDICT_SEEDS  # replicate b simulates seed + 1004 + b
LAST_SEED_OFFSET = BAND_SEED_OFFSET + BAND_REPLICATES


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


def _seed_curves(scenario: dict, periods: int, period_months: int, seeds, n_customers: int, settings: dict,
                 tick=None) -> np.ndarray:
    """Survival curves of equal-sized cohorts of several seeds, one row a seed; `tick()` after each (a progress bar)."""
    curves = []
    for s in seeds:
        curves.append(cohort_survival(scenario, periods, period_months, seed=s, n_customers=n_customers, **settings))
        if tick:
            tick()
    return np.array(curves)


def _pooled_survival(scenario: dict, periods: int, period_months: int, seeds, n_customers: int, settings: dict,
                     tick=None):
    """Survival pooled over equal-sized cohorts of several seeds (the mean of their curves)."""
    return _seed_curves(scenario, periods, period_months, seeds, n_customers, settings, tick).mean(axis=0)


def _rmse_points(curve, observed) -> float:
    """Root mean squared difference over periods 1.. (period 0 is 1.0 in both), in percentage points."""
    return float(100 * np.sqrt(np.mean((np.asarray(curve)[1:len(observed)] - observed[1:]) ** 2)))


def _leaving_deviance(curve, observed) -> float:
    """How unlikely `observed` is under `curve` (a model's survival), as Fader & Hardie (2007) fit the sBG: each
    period's leavers and the last period's survivors, per customer of the cohort, minus the same for the observed
    curve itself (0 when the curves agree). Unlike the RMSE it weighs each year's leavers against those at risk, so
    later years count by their churn, not by how many are left."""
    curve = np.clip(np.asarray(curve, dtype=float)[:len(observed)], 1e-9, 1.0)
    leavers, predicted = -np.diff(observed), np.maximum(-np.diff(curve), 1e-9)
    own = np.maximum(leavers, 1e-12)
    return float(2 * (leavers @ (np.log(own) - np.log(predicted))
                      + observed[-1] * (np.log(max(observed[-1], 1e-12)) - np.log(curve[-1]))))


# What the search minimises: the RMSE of the survival curve in points, or the leaving deviance (x 100, so that the
# search's tolerances mean about as much on either scale).
CRITERIA = {"rmse": _rmse_points, "deviance": lambda curve, observed: 100 * _leaving_deviance(curve, observed)}


_GRID_CACHE: dict = {}


def _grid_curves(scenario: dict, space: dict, period_months: int, periods: int, seed: int, tick=None):
    """Cohort curves over a coarse grid of the unit cube: (points, curves). Cached, as they do not depend on the
    observed curve: a second fit to the same market, settings and length costs only its refinement."""
    key = (tuple(sorted(scenario.items())), tuple(space.items()), period_months, periods, seed)
    if key in _GRID_CACHE and tick:
        tick(len(_GRID_CACHE[key][0]))  # cached: the bar moves on at once
    if key not in _GRID_CACHE:
        levels = (np.arange(GRID_LEVELS) + 0.5) / GRID_LEVELS
        points = np.array(np.meshgrid(*[levels] * len(space), indexing="ij")).reshape(len(space), -1).T
        curves = np.array([_seed_curves(scenario, periods, period_months, [seed], SEARCH_CUSTOMERS,
                                        _to_settings(point, space), tick)[0] for point in points])
        if len(_GRID_CACHE) >= 8:  # a few markets' grids at most: each is small, but a long session fits many
            _GRID_CACHE.pop(next(iter(_GRID_CACHE)))
        _GRID_CACHE[key] = (points, curves)
    return _GRID_CACHE[key]


def _surrogate(points, curves, dimensions: int):
    """The grid's curves interpolated between grid points (cubic along each setting): unit point -> curve.

    The interpolation costs no simulation, so optimising on it is cheap; the points it finds are starts for the
    refinement on simulated cohorts, and its shifts under perturbed data measure how uncertain the fit is.
    """
    from scipy.interpolate import RegularGridInterpolator

    levels = np.unique(points[:, 0])
    grid = curves.reshape((len(levels),) * dimensions + (curves.shape[1],))
    method = "cubic" if len(levels) >= 4 else "linear"
    interpolate = RegularGridInterpolator((levels,) * dimensions, grid, method=method, bounds_error=False,
                                          fill_value=None)
    return lambda unit: np.clip(interpolate(np.clip(unit, 0.0, 1.0)[None, :])[0], 0.0, 1.0)


def _surrogate_fit(surrogate, observed, starts, criterion) -> np.ndarray:
    """The unit point whose interpolated curve comes closest to `observed` by `criterion`, from the best of `starts`."""
    def loss(unit):
        return criterion(surrogate(unit), observed)

    found = [minimize(loss, start, method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(start),
                      options={"xatol": 0.005, "fatol": 0.01, "maxfev": 400}) for start in starts]
    return min(found, key=lambda r: r.fun).x


def _surrogate_optimum(points, curves, observed, dimensions: int, criterion) -> np.ndarray:
    """Where in the unit cube the grid's curves, interpolated between grid points, come closest to `observed`
    (from the three best grid points)."""
    errors = [criterion(curve, observed) for curve in curves]
    return _surrogate_fit(_surrogate(points, curves, dimensions), observed, points[np.argsort(errors)[:3]], criterion)


def _local_design(dimensions: int) -> np.ndarray:
    """The response surface's design in box coordinates (-1 to 1 per setting): a full factorial at 5 levels for one
    or two settings and at 3 for three (27 points); for four, a face-centred central composite design (the 16
    corners, the 8 face centres and the centre), which still determines a quadratic."""
    if dimensions <= 3:
        levels = np.linspace(-1.0, 1.0, 5 if dimensions <= 2 else 3)
        return np.array(np.meshgrid(*[levels] * dimensions, indexing="ij")).reshape(dimensions, -1).T
    corners = np.array(np.meshgrid(*[[-1.0, 1.0]] * dimensions, indexing="ij")).reshape(dimensions, -1).T
    return np.vstack([corners, np.eye(dimensions), -np.eye(dimensions), np.zeros((1, dimensions))])


def _quadratic_terms(z: np.ndarray) -> np.ndarray:
    """The terms of a full quadratic in box coordinates (one row a point): 1, each z_i, each z_i z_j with i <= j."""
    z = np.atleast_2d(z)
    dimensions = z.shape[1]
    products = [z[:, i] * z[:, j] for i in range(dimensions) for j in range(i, dimensions)]
    return np.column_stack([np.ones(len(z)), z] + products)


class _ResponseSurface:
    """Each period's survival as a quadratic in the settings, fitted by weighted least squares to simulated cohorts
    around `centre` (unit-cube points `units`, their curves, weights = customers simulated at each)."""

    def __init__(self, units, curves, weights, centre, half_width):
        self.centre, self.half_width = np.asarray(centre, dtype=float), half_width
        root = np.sqrt(np.asarray(weights, dtype=float))[:, None]
        terms = _quadratic_terms((np.asarray(units) - self.centre) / half_width)
        self.coefficients = np.linalg.lstsq(terms * root, np.asarray(curves) * root, rcond=None)[0]

    def __call__(self, unit) -> np.ndarray:
        curve = _quadratic_terms((np.asarray(unit, dtype=float) - self.centre) / self.half_width)[0] @ self.coefficients
        curve = np.clip(curve, 0.0, 1.0)
        curve[0] = 1.0
        return curve

    def bounds(self):
        """The box the surface was fitted on, within the unit cube: [(low, high)] per setting."""
        return [(max(0.0, c - self.half_width), min(1.0, c + self.half_width)) for c in self.centre]


def _surface_optimum(surface, observed, criterion, starts) -> np.ndarray:
    """The point of the surface's box whose curve on the surface comes closest to `observed` by `criterion`."""
    def loss(unit):
        return criterion(surface(unit), observed)

    found = [minimize(loss, np.clip(start, *np.array(surface.bounds()).T), method="Nelder-Mead",
                      bounds=surface.bounds(), options={"xatol": 1e-4, "fatol": 1e-6, "maxfev": 2000})
             for start in starts]
    return np.clip(min(found, key=lambda r: r.fun).x, 0.0, 1.0)


def _box_centre(point) -> np.ndarray:
    """The centre of a `LOCAL_HALF_WIDTH` box around `point`, moved inwards so the box lies in the unit cube."""
    return np.clip(point, LOCAL_HALF_WIDTH, 1.0 - LOCAL_HALF_WIDTH)


def _on_inner_edge(point, centre) -> bool:
    """Whether `point` lies on its box's edge where the box does not end at the cube's edge: the optimum may lie
    beyond the box."""
    at_edge = np.abs(point - centre) >= LOCAL_HALF_WIDTH * 0.99
    at_cube_face = (point <= 1e-6) | (point >= 1.0 - 1e-6)
    return bool(np.any(at_edge & ~at_cube_face))


def _refine(simulate, start, observed, criterion, seed: int):
    """Refine the fit by response surfaces (`LOCAL_STAGES`), from `start`: (fitted unit point, surface, evaluations).

    `simulate(unit, seeds, customers)` is a cohort curve pooled over those seeds. Each stage simulates the design
    around the previous optimum on seeds of its own (seed, seed + 1 for the first stage, then seed + 2, seed + 3,
    ...), the same at every point of the stage; a stage moves its box (at most `LOCAL_MOVES` times) while its
    optimum lies on the box's edge inside the cube. The last surface pools the last box of every stage, each point weighted
    by the customers simulated at it, and its optimum is the fit.
    """
    design = _local_design(len(start))
    point, pooled, next_seed, evaluations = np.asarray(start, dtype=float), [], seed, 0
    for stage, (customers, seed_count) in enumerate(LOCAL_STAGES):
        seeds = list(range(next_seed, next_seed + seed_count))
        next_seed += seed_count
        for move in range(LOCAL_MOVES[stage] + 1):
            centre = _box_centre(point)
            units = np.clip(centre + LOCAL_HALF_WIDTH * design, 0.0, 1.0)
            curves = np.array([simulate(unit, seeds, customers) for unit in units])
            evaluations += len(units)
            weights = np.full(len(units), customers * seed_count)
            surface = _ResponseSurface(units, curves, weights, centre, LOCAL_HALF_WIDTH)
            best_simulated = units[np.argmin([criterion(curve, observed) for curve in curves])]
            point = _surface_optimum(surface, observed, criterion, [centre, best_simulated])
            if not _on_inner_edge(point, centre):
                break
        pooled.append((units, curves, weights))
    units, curves, weights = (np.concatenate(parts) for parts in zip(*pooled))
    surface = _ResponseSurface(units, curves, weights, centre, LOCAL_HALF_WIDTH)
    return _surface_optimum(surface, observed, criterion, [point, centre]), surface, evaluations


def _bootstrap_units(surface, observed, fitted_curve, fitted_unit, seed: int, criterion) -> list[np.ndarray]:
    """`BAND_REPLICATES` unit points for the forecast band: a wild bootstrap of the fit.

    Replicate b refits (on the last response surface, no simulation) the fitted curve plus the fit's residuals, each
    with a random sign; its settings are the fitted ones moved by as much as that refit moved the surface's optimum
    (within the surface's box: the band does not reach settings the surface was not fitted on).
    The signs come from a generator seeded by the fit's seed, so the band is reproducible.
    """
    fitted_curve = np.asarray(fitted_curve[:len(observed)])
    residuals = observed - fitted_curve
    centre = _surface_optimum(surface, observed, criterion, [fitted_unit])
    signs = np.random.default_rng([seed, 16]).choice([-1.0, 1.0], size=(BAND_REPLICATES, len(observed)))
    units = []
    for flipped in signs:
        perturbed = np.clip(fitted_curve + flipped * residuals, 0.0, 1.0)
        perturbed[0] = 1.0
        units.append(np.clip(fitted_unit + _surface_optimum(surface, perturbed, criterion, [centre]) - centre, 0.0, 1.0))
    return units


class RetentionFit:
    """A market calibrated to an observed cohort retention curve (made by `fit_retention_curve`).

    Attributes:
        settings: the fitted scenario overrides, {name: value}.
        rmse: fit error in percentage points over the observed periods (1 to the last), of the pooled prediction.
        observed: the observed survival shares (period 0 first).
        scenario: the validated scenario the fit started from (without the fitted overrides).
        period_months: months per period.
        seed: the base seed; the search used seeds seed (the grid) and seed to seed + 3 (the response surfaces),
            the prediction seed + 1000 to + 1003, the forecast band seed + 1004 and up.
        evaluations: how many candidate settings were simulated; seconds: how long the fit took.
        replicate_settings: the settings of the band's replicates (`band`), a list of {name: value}.
        sbg: (alpha, beta) of the benchmark, the sBG model fitted to the same curve by maximum likelihood.
    """

    def __init__(self, settings, observed, scenario, period_months, seed, evaluations, seconds, tick=None):
        self.settings, self.observed, self.scenario = dict(settings), observed, scenario
        self.period_months, self.seed, self.evaluations, self.seconds = period_months, seed, evaluations, seconds
        self.replicate_settings: list[dict] = []
        self._curves: dict[int, np.ndarray] = {}  # per-seed curves of the prediction, by length
        self._bands: dict[int, tuple[list[float], list[float]]] = {}
        self._tick = tick
        self.sbg = fit_sbg(observed, method="likelihood")[:2]
        self.rmse = _rmse_points(self.predict(len(observed) - 1), observed)

    def _seed_curves_up_to(self, periods: int) -> np.ndarray:
        longest = max(self._curves, default=0)
        if periods > longest:
            seeds = [self.seed + PREDICT_SEED_OFFSET + i for i in range(PREDICT_SEEDS)]
            self._curves[periods] = _seed_curves(self.scenario, periods, self.period_months, seeds, PREDICT_CUSTOMERS,
                                                 self.settings, self._tick)
            longest = periods
        return self._curves[longest][:, :periods + 1]  # a longer curve holds the shorter one (same seeds, same months)

    def predict(self, periods: int) -> list[float]:
        """Survival shares at periods 0..`periods` (`periods + 1` values, starting at 1.0) of the fitted market.

        Pooled over `PREDICT_SEEDS` cohorts of `PREDICT_CUSTOMERS` customers, so one seed's noise does not decide it.
        """
        _check_whole("periods", periods, 1, 50)
        return [float(x) for x in self._seed_curves_up_to(periods).mean(axis=0)]

    def band(self, periods: int) -> tuple[list[float], list[float]]:
        """The forecast band at periods 0..`periods`: (low, high) survival shares, what seeds and fit leave uncertain.

        The range of `BAND_REPLICATES` replicate forecasts, each a bootstrap refit of the market (see
        `replicate_settings`) simulated on one full-size cohort of its own seed, together with the prediction's
        own per-seed cohorts. So it holds `predict(periods)`, which is their mean; it is not a prediction interval
        for a cohort of another size (a real cohort of 1,000 customers is noisier than one of 20,000).
        """
        _check_whole("periods", periods, 1, 50)
        if not any(p >= periods for p in self._bands):
            replicates = [_seed_curves(self.scenario, periods, self.period_months, [self.seed + BAND_SEED_OFFSET + b],
                                       PREDICT_CUSTOMERS, settings, self._tick)[0]
                          for b, settings in enumerate(self.replicate_settings)]
            curves = np.vstack([self._seed_curves_up_to(periods)] + replicates)
            self._bands[periods] = ([float(x) for x in curves.min(axis=0)], [float(x) for x in curves.max(axis=0)])
        longest = min(p for p in self._bands if p >= periods)
        low, high = self._bands[longest]
        return low[:periods + 1], high[:periods + 1]

    def sbg_curve(self, periods: int) -> list[float]:
        """The benchmark's survival at periods 0..`periods`: the sBG model fitted to the same observed curve."""
        _check_whole("periods", periods, 1, 50)
        return [float(x) for x in sbg_survival(*self.sbg, periods)]

    def scenario_with_settings(self) -> dict:
        """The calibrated market: the starting scenario with the fitted settings (a dict `load_scenario` takes)."""
        return {**self.scenario, **self.settings}

    def __repr__(self):
        shown = ", ".join(f"{k}={v:g}" for k, v in self.settings.items())
        return f"RetentionFit({shown}; rmse {self.rmse:.2f} points over {len(self.observed) - 1} periods)"


def forecast_errors(forecast, actual, fitted_periods: int) -> dict:
    """How far `forecast` misses `actual` over the periods after the first `fitted_periods`, in percentage points.

    Returns {"worst": the largest miss, "mean": the mean absolute miss, "periods": the periods compared}.
    """
    actual = np.asarray(actual, dtype=float)
    held_out = np.arange(fitted_periods + 1, len(actual))
    misses = 100 * np.abs(np.asarray(forecast, dtype=float)[held_out] - actual[held_out])
    return {"worst": float(misses.max()), "mean": float(misses.mean()), "periods": [int(p) for p in held_out]}


def fit_retention_curve(observed, scenario="telecom", period_months=12, seed=None, settings=None, horizon=None,
                        criterion="deviance", progress=False) -> RetentionFit:
    """Calibrate a market to an observed cohort retention curve, so that it can forecast the curve's tail.

    The search runs in a unit cube over the settings to fit (`CALIBRATED_SETTINGS` by default), each mapped onto
    its range on its scale, in three steps:
      1. a coarse grid (`GRID_LEVELS` per setting) of simulated cohorts of `SEARCH_CUSTOMERS`, one seed; the grid
         does not depend on the observed curve, so it is cached per market, settings, length and seed;
      2. the best point of a cubic interpolation between the grid's curves (no simulation);
      3. from there, response surfaces (`LOCAL_STAGES`): a small design of candidates around the best point so
         far, simulated on common seeds, each period's survival fitted by a quadratic in the settings, and the
         criterion minimised on that smooth surface; then again around that optimum with larger cohorts and seeds
         of its own, the last surface pooling both. So one cohort's noise does not decide the fit, as it did when
         single candidates were compared: the fitted settings, the fit's error and the forecast then varied from
         seed to seed by more than the band showed.
    The result is judged on full-size cohorts pooled over seeds the search never used. Then the forecast band's
    replicates are drawn (`RetentionFit.band`), and the forecast and band up to `horizon` are simulated. One fit
    of a 7-period yearly curve with a 12-period horizon takes about 60-80 s of one core (twice the Nelder-Mead
    search it replaced; `benchmarks/forecast_report.py` measures it).

    Args:
        observed: survival shares at the end of each period, period 0 first (1.0), as `cohort_survival` returns.
        scenario: the market to calibrate (a name, YAML path or dict); the settings not fitted keep its values.
        period_months: months per period of `observed` (12: yearly).
        seed: the base seed (a whole number); None draws one, so the fit is not reproducible.
        settings: the settings to fit: None (`CALIBRATED_SETTINGS`), a list of numeric scenario setting names,
            or a dict {name: (low, high)}.
        horizon: the last period to forecast at once, with its band (default: the last observed period + 5).
        criterion: what the search minimises: "deviance" (the default), how unlikely the observed leavers of each
            period are under the model's curve, the criterion by which Fader & Hardie fit the sBG: it weighs each
            period's churn against those still there, so the late years, which decide the forecast, count as much
            as the first; or "rmse", the root mean squared gap of the survival curves in points, which the first
            years' large shares dominate. On the published curves the deviance forecasts the held-out years
            better and fits the fitted years less closely (`benchmarks/forecast_report.py`).
        progress: show a progress bar of the simulated cohorts on standard error.

    Returns:
        A `RetentionFit` with `.settings`, `.rmse` (percentage points), `.predict(periods)`, `.band(periods)` and
        the sBG benchmark (`.sbg`, `.sbg_curve(periods)`).

    Raises:
        InvalidParameter, UnknownField, UnknownScenario: bad input, naming the field, the value and what is allowed.
    """
    import sys
    import time

    from tqdm.auto import tqdm

    from .scenarios import load_scenario

    start = time.perf_counter()
    observed = check_observed(observed)
    periods = len(observed) - 1
    _check_whole("period_months", period_months, 1, 24)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0]) % (2**31 - 2000)  # fresh entropy, as Mesa does
    _check_whole("seed", seed, 0, 2**31 - 1 - LAST_SEED_OFFSET)
    horizon = periods + 5 if horizon is None else horizon
    _check_whole("horizon", horizon, 1, 50)
    space = check_settings(settings)
    if criterion not in CRITERIA:
        raise InvalidParameter("calibration", "criterion", criterion, "one of " + ", ".join(CRITERIA))
    loss_of = CRITERIA[criterion]
    base = load_scenario(scenario)
    for name in space:
        base.pop(name, None)  # the fitted settings come from the search, never from the starting scenario
    base_with_defaults = load_scenario(base)  # still a complete scenario: a fitted setting has a default meanwhile

    grid_size = GRID_LEVELS ** len(space)
    refinement = len(_local_design(len(space))) * sum(seed_count for _, seed_count in LOCAL_STAGES)
    simulated = grid_size + refinement + PREDICT_SEEDS * 2 + BAND_REPLICATES  # about: the first stage may move
    with tqdm(total=simulated, desc="cohorts simulated", unit="cohort", disable=not progress, file=sys.stderr) as bar:
        def tick(n=1):
            bar.update(n)

        def simulate(unit, seeds, customers):
            return _pooled_survival(base_with_defaults, periods, period_months, seeds, customers,
                                    _to_settings(unit, space), tick)

        points, curves = _grid_curves(base_with_defaults, space, period_months, periods, seed, tick)
        best_point = _surrogate_optimum(points, curves, observed, len(space), loss_of)
        fitted_unit, surface, evaluations = _refine(simulate, best_point, observed, loss_of, seed)
        fit = RetentionFit(_to_settings(fitted_unit, space), observed, base_with_defaults, period_months, seed,
                           len(points) + evaluations, 0.0, tick)
        units = _bootstrap_units(surface, observed, fit.predict(periods), fitted_unit, seed, loss_of)
        fit.replicate_settings = [_to_settings(unit, space) for unit in units]
        fit.predict(max(horizon, periods))
        fit.band(max(horizon, periods))
        bar.total = bar.n  # the refinement may stop early: the bar ends full
        bar.refresh()
    fit._tick = None  # later forecasts run without the bar
    fit.seconds = time.perf_counter() - start
    return fit


# ---------------------------------------------------------------------------------------------- files and figures
CURVE_FORMAT = """\
CURVE.csv has two columns, the period and the share of the cohort still there at the end of it
(0 to 1, not a percentage), one row per period, periods 0, 1, 2, ... in order. A header row naming the
columns 'period' and 'survival' is allowed (its columns may then come in any order). Period 0 (1.0) may be
left out. Lines starting with '#' are comments (say where the curve comes from).

For example:
  period,survival
  1,0.63
  2,0.47
  3,0.39"""


# Real retention curves shipped with the package (simulations/data/), each file citing its source in its comments.
PUBLISHED_CURVES = {
    "fader_hardie_2007_regular": "Fader & Hardie (2007), Table 1: 'Regular' customers, years 0-12",
    "fader_hardie_2007_high_end": "Fader & Hardie (2007), Table 1: 'High End' customers, years 0-12",
}


def published_curve(name: str) -> np.ndarray:
    """A published retention curve shipped with the package (`PUBLISHED_CURVES`), period 0 first."""
    from importlib.resources import files

    from .errors import match_name

    name = match_name(name, list(PUBLISHED_CURVES), "published curves")
    return read_curve_csv(files("simulations") / "data" / f"{name}.csv")


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
    lines = [line if not line.lstrip().startswith("#") else "" for line in text.splitlines()]  # comments: a source
    rows = [(number, row) for number, row in enumerate(csv.reader(lines), 1) if any(c.strip() for c in row)]
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


def plot_calibration(fit: RetentionFit, horizon: int, ax=None, held_out=()):
    """Observed, fitted and forecast survival of a calibrated market, its forecast band and the sBG benchmark fitted
    to the same periods, on one axis; `held_out`: observed shares after the fitted periods (drawn as open circles).
    Returns the axis."""
    import matplotlib.pyplot as plt

    if ax is None:
        figure, ax = plt.subplots(figsize=(7.2, 4.2))
    periods = len(fit.observed) - 1
    horizon = max(horizon, periods + len(held_out))
    predicted, (low, high), sbg = (100 * np.asarray(curve) for curve in
                                   (fit.predict(horizon), fit.band(horizon), fit.sbg_curve(horizon)))
    fitted, ahead = np.arange(periods + 1), np.arange(periods, horizon + 1)
    ax.fill_between(np.arange(horizon + 1), low, high, color="tab:blue", alpha=0.18, linewidth=0,
                    label=_("model band (seeds and fit)"))
    ax.plot(fitted, 100 * np.asarray(fit.observed), "o", color="black", label=_("observed, fitted"))
    if len(held_out):
        ax.plot(np.arange(periods + 1, periods + 1 + len(held_out)), 100 * np.asarray(held_out), "o", color="black",
                markerfacecolor="white", label=_("observed, held out"))
    ax.plot(fitted, predicted[:periods + 1], "-", color="tab:blue",
            label=_("model fitted (RMSE {rmse} points)").format(rmse=format_number(fit.rmse, 1)))
    ax.plot(fitted, sbg[:periods + 1], "-", color="tab:orange", linewidth=1.2, label=_("sBG fitted"))
    if horizon > periods:
        ax.plot(ahead, predicted[periods:], "--", color="tab:blue", label=_("model forecast"))
        ax.plot(ahead, sbg[periods:], "--", color="tab:orange", linewidth=1.2, label=_("sBG forecast"))
        ax.axvline(periods + 0.5, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel(_("years since acquisition") if fit.period_months == 12
                  else _("periods of {months} months since acquisition").format(months=fit.period_months))
    ax.set_ylabel(_("customers still with the firm (%)"))
    ax.set_ylim(0, 102)
    ax.legend(frameon=False, fontsize="small")
    return ax
