"""Calibration of a market to cohort retention curves: input checks, known answers, the forecast, the command line.

The fits run on one xdist worker so that they share the cached grid of simulated cohorts (a fit's coarse grid
depends on the market, the settings searched, the curve's length and the seed, not on the curve itself).
"""

import numpy as np
import pytest
import yaml

from simulations import load_scenario
from simulations.calibration import (CALIBRATED_SETTINGS, PUBLISHED_CURVES, cohort_survival, fit_retention_curve,
                                     fit_sbg, forecast_errors, published_curve, read_curve_csv, sbg_survival)
from simulations.cli import main
from simulations.errors import BadInput, InvalidParameter, UnknownField

pytestmark = pytest.mark.xdist_group("calibration")

# Fader & Hardie's (2007) "regular" subscribers: polarization 1 / (alpha + beta + 1) = 0.35, 63% kept in year 1
REGULAR = (0.704, 1.182)
# a curve at the other end of published polarization: 0.20, with 75% kept in year 1
LESS_POLARIZED = (1.0, 3.0)
FIT_YEARS, FORECAST_YEARS = 7, 12


def _points(a, b) -> float:
    """Largest gap between two survival curves, in percentage points."""
    return float(100 * np.max(np.abs(np.asarray(a) - np.asarray(b))))


@pytest.fixture(scope="module")
def regular_fit():
    truth = sbg_survival(*REGULAR, FORECAST_YEARS)
    return truth, fit_retention_curve(truth[:FIT_YEARS + 1], seed=1, horizon=FORECAST_YEARS)


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("observed, field", [
    ([0.9, 0.8, 0.7, 0.6], "observed[0]"),               # must start at 1.0
    ([1.0, 0.8, 0.85, 0.6], "observed[2]"),              # survival never rises
    ([1.0, 0.8, 0.7, 1.5], "observed[3]"),               # a share, not a percentage
    ([1.0, 0.8, float("nan"), 0.5], "observed[2]"),
    ([1.0, 0.8, 0.7], "observed"),                       # fewer than 3 periods
    ("1.0, 0.8, 0.7, 0.6", "observed"),
    ([[1.0, 0.8], [0.7, 0.6]], "observed"),
])
def test_bad_curves_are_named_by_field_with_what_is_allowed(observed, field):
    with pytest.raises(InvalidParameter) as caught:
        fit_retention_curve(observed)
    assert caught.value.field == field
    assert "allowed:" in str(caught.value) and caught.value.allowed


@pytest.mark.parametrize("kwargs, field", [
    ({"period_months": 0}, "period_months"),
    ({"seed": -1}, "seed"),
    ({"settings": "lure_rate"}, "settings"),
    ({"settings": {"lure_rate": (0.3, 0.1)}}, "lure_rate"),
    ({"settings": {"proneness_shape": (0.01, 2.0)}}, "proneness_shape"),
    ({"horizon": 0}, "horizon"),
    ({"criterion": "likelihood"}, "criterion"),
])
def test_bad_options_are_named(kwargs, field):
    with pytest.raises(InvalidParameter) as caught:
        fit_retention_curve([1.0, 0.7, 0.6, 0.55], **kwargs)
    assert caught.value.field == field


def test_an_unknown_setting_gets_did_you_mean():
    with pytest.raises(UnknownField, match="did you mean 'lure_rate'"):
        fit_retention_curve([1.0, 0.7, 0.6, 0.55], settings=["lure_rat"])


def test_the_default_search_is_the_documented_one():
    assert list(CALIBRATED_SETTINGS) == ["proneness_shape", "lure_rate", "search_rate"]
    for name, (low, high, scale) in CALIBRATED_SETTINGS.items():
        load_scenario("telecom", **{name: low})  # each range lies within what a scenario allows
        load_scenario("telecom", **{name: high})
        assert scale in ("log", "linear")


# ---------------------------------------------------------------------------------------------- curve files
@pytest.mark.parametrize("text", [
    "period,survival\n1,0.7\n2,0.6\n3,0.55\n",
    "survival,period\n1.0,0\n0.7,1\n0.6,2\n0.55,3\n",
    "0,1\n1,0.7\n\n2,0.6\n3,0.55\n",
    "\ufeffPeriod,Survival\r\n1,0.7\r\n2,0.6\r\n3,0.55\r\n",
])
def test_curve_files_with_or_without_header_and_period_0(tmp_path, text):
    path = tmp_path / "curve.csv"
    path.write_text(text, encoding="utf-8")
    assert read_curve_csv(path).tolist() == [1.0, 0.7, 0.6, 0.55]


@pytest.mark.parametrize("text, fragments", [
    ("period,survival\n1,70\n2,60\n3,55\n", ["line 2", "'70'", "write 63% as 0.63"]),
    ("period,survival\n1,0.7\n2,0.75\n3,0.55\n", ["line 3", "never rises", "at most 0.7"]),
    ("period,survival\n1,0.7\n3,0.6\n4,0.55\n", ["line 3", "not the next period", "allowed: 2"]),
    ("year,share\n1,0.7\n2,0.6\n3,0.55\n", ["line 1", "'period' and 'survival'"]),
    ("period,survival\n1,0.7\n2,0.6\n", ["has 2 rows", "3 to 50 periods"]),
    ("period,survival\n1,0.7\n2,lots\n3,0.5\n", ["line 3", "two numbers"]),
    ("0,0.9\n1,0.7\n2,0.6\n3,0.5\n", ["line 1", "1.0"]),
])
def test_bad_curve_files_name_the_line_and_what_is_allowed(tmp_path, text, fragments):
    path = tmp_path / "curve.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        read_curve_csv(path)
    message = str(caught.value)
    assert "allowed:" in message
    for fragment in fragments:
        assert fragment in message


# ---------------------------------------------------------------------------------------------- published curves
# Fader & Hardie (2007), Table 1, in percent: what the shipped files must hold
TABLE_1 = {"fader_hardie_2007_regular": [100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1, 22.3, 20.7, 19.4, 18.3, 17.3],
           "fader_hardie_2007_high_end": [100.0, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1, 46.8, 44.5, 42.7, 40.9, 39.4]}


@pytest.mark.parametrize("name", list(PUBLISHED_CURVES))
def test_published_curves_are_shipped_with_their_source(name):
    assert published_curve(name).tolist() == pytest.approx(np.array(TABLE_1[name]) / 100)
    from importlib.resources import files
    text = (files("simulations") / "data" / f"{name}.csv").read_text(encoding="utf-8")
    assert "Fader" in text and "Journal of Interactive Marketing 21(1)" in text and text.startswith("#")


def test_an_unknown_published_curve_gets_did_you_mean():
    with pytest.raises(UnknownField, match="fader_hardie_2007_regular"):
        published_curve("fader_hardie_regular")


@pytest.mark.parametrize("name, published", [("fader_hardie_2007_regular", (0.704, 1.182)),
                                             ("fader_hardie_2007_high_end", (0.668, 3.806))])
def test_the_likelihood_sbg_gives_the_published_parameters(name, published):
    """Fitted to years 0-7 by maximum likelihood, the sBG has the parameters Fader & Hardie (2007) report."""
    alpha, beta, _ = fit_sbg(published_curve(name)[:FIT_YEARS + 1], method="likelihood")
    assert (alpha, beta) == pytest.approx(published, abs=0.001)
    with pytest.raises(InvalidParameter, match="method"):
        fit_sbg([1.0, 0.7, 0.6, 0.55], method="ols")


def test_the_deviance_criterion_is_zero_only_for_the_observed_curve_itself():
    from simulations.calibration import CRITERIA
    observed = published_curve("fader_hardie_2007_regular")[:FIT_YEARS + 1]
    deviance = CRITERIA["deviance"]
    assert deviance(observed, observed) == pytest.approx(0.0, abs=1e-9)
    shifted = np.concatenate([[1.0], observed[1:] - 0.01])
    assert deviance(shifted, observed) > 0.0 and CRITERIA["rmse"](shifted, observed) == pytest.approx(1.0)
    # a miss in the late years weighs more against the deviance than the same miss in year 1 does
    late, early = observed.copy(), observed.copy()
    late[-1] -= 0.01
    early[1] -= 0.01
    assert deviance(late, observed) > deviance(early, observed)


def test_forecast_errors_are_over_the_held_out_periods_only():
    errors = forecast_errors([1.0, 0.5, 0.42, 0.30, 0.28], [1.0, 0.6, 0.40, 0.33, 0.27], fitted_periods=2)
    assert errors["periods"] == [3, 4]
    assert errors["worst"] == pytest.approx(3.0) and errors["mean"] == pytest.approx(2.0)


# ---------------------------------------------------------------------------------------------- known answers
@pytest.mark.slow
def test_recovers_the_settings_of_a_curve_the_model_made():
    """A cohort made with proneness_shape 0.6 and lure_rate 0.1 (pooled over seeds the fit never uses) is fitted
    back to within a fifth of its shape (on the log scale the search uses) and 0.025 of its lure rate."""
    truth = {"proneness_shape": 0.6, "lure_rate": 0.1}
    made = np.mean([cohort_survival("telecom", FIT_YEARS, seed=seed, **truth) for seed in (501, 502)], axis=0)
    fit = fit_retention_curve(made, seed=1, settings=list(truth))
    assert set(fit.settings) == set(truth)
    assert abs(np.log(fit.settings["proneness_shape"] / truth["proneness_shape"])) < np.log(1.2), fit.settings
    assert abs(fit.settings["lure_rate"] - truth["lure_rate"]) < 0.025, fit.settings
    assert fit.rmse < 1.0


@pytest.mark.slow
def test_fits_a_polarized_sbg_curve_and_forecasts_its_tail(regular_fit):
    """Fitted on the first 7 years of a 12-year sBG curve (polarization 0.35), the calibrated model is within
    2 points RMSE over those years and forecasts years 8-12 within 3 points (the issue's goal)."""
    truth, fit = regular_fit
    assert fit.rmse <= 2.0
    forecast = fit.predict(FORECAST_YEARS)
    assert _points(forecast[FIT_YEARS + 1:], truth[FIT_YEARS + 1:]) <= 3.0
    assert fit.settings["proneness_shape"] < load_scenario("telecom")["proneness_shape"] * 4  # a polarized market


@pytest.mark.slow
def test_fits_a_less_polarized_sbg_curve_and_forecasts_its_tail():
    truth = sbg_survival(*LESS_POLARIZED, FORECAST_YEARS)
    fit = fit_retention_curve(truth[:FIT_YEARS + 1], seed=1)
    assert fit.rmse <= 2.0
    assert _points(fit.predict(FORECAST_YEARS)[FIT_YEARS + 1:], truth[FIT_YEARS + 1:]) <= 3.0


@pytest.mark.slow
def test_the_forecast_does_not_hang_on_the_seed(regular_fit):
    """Another seed (another grid, other cohorts in every stage of the search) forecasts the held-out years within
    0.75 points of seed 1's (measured: 0.30). The search fits response surfaces to many cohorts, so one cohort's
    noise does not decide the fit; with Nelder-Mead on single noisy candidates the model's worst miss on the
    published curves moved by 1-2 points from seed to seed."""
    truth, fit = regular_fit
    other = fit_retention_curve(truth[:FIT_YEARS + 1], seed=2, horizon=FORECAST_YEARS)
    assert _points(other.predict(FORECAST_YEARS)[FIT_YEARS + 1:], fit.predict(FORECAST_YEARS)[FIT_YEARS + 1:]) < 0.75


@pytest.mark.slow
def test_predict_gives_a_pooled_survival_curve(regular_fit):
    _, fit = regular_fit
    long = fit.predict(FORECAST_YEARS)
    assert len(long) == FORECAST_YEARS + 1 and long[0] == 1.0
    assert all(0.0 <= b <= a <= 1.0 for a, b in zip(long, long[1:]))
    assert fit.predict(3) == long[:4]  # a shorter forecast is the start of the longer one
    with pytest.raises(InvalidParameter, match="periods"):
        fit.predict(0)
    # the reported error is that of the pooled prediction over the observed years
    assert fit.rmse == pytest.approx(100 * np.sqrt(np.mean((np.array(long[1:FIT_YEARS + 1])
                                                            - fit.observed[1:]) ** 2)))


@pytest.mark.slow
def test_the_forecast_band_holds_the_forecast(regular_fit):
    """The band is the range of bootstrap refits (each on its own seed) and of the forecast's own seeds: it holds
    the forecast, is nothing at period 0 and something after, and it widens with the horizon (measured with the
    response-surface search: from 2% of the forecast in year 1 to 10% in year 12). Measured, not asserted: it held
    all five of the sBG curve's held-out years, year 12 by a tenth of a point."""
    truth, fit = regular_fit
    forecast = np.array(fit.predict(FORECAST_YEARS))
    low, high = (np.array(x) for x in fit.band(FORECAST_YEARS))
    assert len(low) == len(high) == FORECAST_YEARS + 1 and low[0] == high[0] == 1.0
    assert np.all(low <= forecast) and np.all(forecast <= high)
    assert np.all((high - low)[1:] > 0.0)  # seeds and fit both leave doubt after period 0
    relative_width = (high - low)[1:] / forecast[1:]
    assert relative_width[-1] > 2 * relative_width[0]  # the further ahead, the less certain
    assert len(fit.replicate_settings) >= 10 and len({tuple(r.values()) for r in fit.replicate_settings}) > 1
    assert fit.band(5) == (list(low[:6]), list(high[:6]))  # a shorter band is the start of the longer one
    assert fit.sbg == pytest.approx(fit_sbg(truth[:FIT_YEARS + 1], method="likelihood")[:2])


# ---------------------------------------------------------------------------------------------- the command line
@pytest.mark.slow
def test_calibrate_command_end_to_end(tmp_path, monkeypatch, capsys, regular_fit):
    truth, fit = regular_fit
    monkeypatch.chdir(tmp_path)
    rows = "\n".join(f"{year},{float(share)!r}" for year, share in enumerate(truth[1:], 1))
    (tmp_path / "curve.csv").write_text(f"# made by the sBG\nperiod,survival\n{rows}\n", encoding="utf-8")
    holdout = FORECAST_YEARS - FIT_YEARS
    assert main(["calibrate", "curve.csv", "--market", "TELECOM", "--out", "fit", "--seed", "1",
                 "--holdout", str(holdout)]) == 0
    out = capsys.readouterr().out
    assert "lure_rate" in out and "held out" in out and "Wrote to fit/" in out
    # both models' errors on the held-out years, as forecast_errors measures them on the same fit
    model = forecast_errors(fit.predict(FORECAST_YEARS), truth, FIT_YEARS)
    benchmark = forecast_errors(fit.sbg_curve(FORECAST_YEARS), truth, FIT_YEARS)
    assert f"held-out periods {FIT_YEARS + 1}-{FORECAST_YEARS}" in out
    assert f"model  worst {model['worst']:.2f}  mean {model['mean']:.2f}" in out
    assert f"sBG    worst {benchmark['worst']:.2f}  mean {benchmark['mean']:.2f}" in out
    low, high = fit.band(FORECAST_YEARS)
    assert f"{low[FORECAST_YEARS]:5.1%}-{high[FORECAST_YEARS]:<6.1%}" in out  # the band, on the last line
    written = tmp_path / "fit" / "telecom_calibrated.yaml"
    text = written.read_text(encoding="utf-8")
    assert text.startswith("# The 'telecom' market calibrated") and "curve.csv" in text.splitlines()[0]
    scenario = load_scenario(str(written))  # a scenario file the model accepts
    assert scenario["name"] == "telecom_calibrated"
    fitted = {k: v for k, v in yaml.safe_load(text).items() if k in CALIBRATED_SETTINGS}
    assert fitted == pytest.approx(fit.settings, abs=1e-6)  # same curve, same seed: same fit
    png = tmp_path / "fit" / "calibration.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10000

    # the same folder again: refused without --force, before anything is fitted
    assert main(["calibrate", "curve.csv", "--out", "fit"]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("args, fragments", [
    (["calibrate", "missing.csv"], ["missing.csv", "cannot be read"]),
    (["calibrate", "bad.csv"], ["bad.csv line 2", "never rises"]),
    (["calibrate", "bad.csv", "--market", "telcom"], ["did you mean 'telecom'"]),
    (["calibrate", "bad.csv", "--seed", "x"], ["--seed", "'x'"]),
    (["calibrate", "good.csv", "--holdout", "3"], ["--holdout", "3", "leaves 2 of", "allowed: a whole number from 1 to 2"]),
    (["calibrate", "good.csv", "--holdout", "4"], ["--holdout", "4", "leaves 1 of"]),
    (["calibrate", "good.csv", "--holdout", "0"], ["--holdout", "'0'", "a whole number from 1"]),
    (["calibrate", "good.csv", "--holdout", "two"], ["--holdout", "'two'"]),
    (["calibrate", "good.csv", "--criterion", "ols"], ["--criterion", "'ols'", "deviance", "rmse"]),
    (["calibrate", "good.csv", "--horizon", "3"], ["--horizon", "3", "before the curve's last period, 5"]),
    (["calibrate", "fader_hardie_2007_regular", "--holdout", "10"], ["--holdout", "10", "from 1 to 9"]),
    (["calibrate", "good.csv", "--settings", "lure_rate,tenure_bondng"], ["tenure_bondng", "did you mean 'tenure_bonding'"]),
    (["calibrate", "good.csv", "--settings", "lure_rate,search_rate,death_rate,move_rate,proneness_shape"],
     ["settings", "1 to 4"]),
    (["calibrate", "good.csv", "--settings", "lure_rate,lure_rate"], ["settings", "'lure_rate'", "each setting once"]),
])
def test_calibrate_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, capsys, args, fragments):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("1,0.7\n2,0.8\n3,0.6\n", encoding="utf-8")
    (tmp_path / "good.csv").write_text("1,0.7\n2,0.6\n3,0.55\n4,0.5\n5,0.47\n", encoding="utf-8")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    for fragment in fragments:
        assert fragment in err
    assert not any(p.name.startswith("calibrate-") for p in tmp_path.iterdir())  # nothing written


# ---------------------------------------------------------------------------------------------- the forecast benchmark
def _forecast_report():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "forecast_report.py"
    spec = importlib.util.spec_from_file_location("forecast_report", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_forecast_report_reads_settings_with_their_own_ranges():
    report = _forecast_report()
    assert report.parse_settings(None) is None
    assert report.parse_settings("lure_rate,tenure_bonding") == ["lure_rate", "tenure_bonding"]
    ranged = report.parse_settings("proneness_shape=0.15:100,lure_rate,other_relationships_rate=0:0.01")
    assert ranged == {"proneness_shape": (0.15, 100.0), "lure_rate": CALIBRATED_SETTINGS["lure_rate"][:2],
                      "other_relationships_rate": (0.0, 0.01)}
    assert report.parse_fixed("search_rate=0.5,contract_months=12") == {"search_rate": 0.5, "contract_months": 12}


@pytest.mark.parametrize("args, fragments", [
    (["--settings", "lure_rate=0.1"], ["'lure_rate'", "'0.1'", "low:high"]),
    (["--settings", "lure_rate=0:0.2,lure_rate"], ["'lure_rate'", "each setting once"]),
    (["--settings", "tenure_bonding=0:3"], ["'tenure_bonding'", "0 <= low < high <= 2"]),
    (["--fix", "search_rate=x"], ["'search_rate'", "'x'", "name=number"]),
    (["--fix", "search_rate=7"], ["'search_rate'", "7", "from 0 to 1"]),
    (["--seeds", "1,x"], ["--seeds", "'1,x'", "whole numbers"]),
])
def test_forecast_report_bad_arguments_exit_2_naming_them(monkeypatch, capsys, args, fragments):
    report = _forecast_report()
    monkeypatch.setattr("sys.argv", ["forecast_report.py", *args])
    monkeypatch.setattr(report, "report", lambda *a, **k: pytest.fail("no fit should start on bad arguments"))
    with pytest.raises(SystemExit) as exit_:
        report.main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    for fragment in fragments:
        assert fragment in err, err
