"""The parameter specification is the one source of every range: Strategy, the scenarios, the notebook
sliders and the SolaraViz sidebar must all agree with it."""

from __future__ import annotations

import dataclasses

import pytest

from simulations import InvalidParameter, LoyaltyMarket, Strategy, load_scenario
from simulations.parameters import LEVERS, LEVERS_BY_NAME, SCENARIO_SETTINGS, SETTINGS_BY_NAME
from simulations.widgets import DASHBOARD_SETTINGS, dashboard, lever_controls, setting_controls

NUMERIC_LEVERS = [p for p in LEVERS if not p.choices]
CHOICE_LEVERS = [p for p in LEVERS if p.choices]
CUTOFFS = ("platinum_cutoff", "gold_cutoff", "iron_cutoff")


def ends(parameter):
    return [parameter.min, parameter.max]


def just_outside(parameter):
    margin = max(parameter.step or 0.0, 1e-6)
    return [parameter.min - margin, parameter.max + margin]


def consistent_overrides(parameter, value) -> dict:
    """Overrides that set `parameter` to `value`; the tier cut-offs must stay in order, so they move together."""
    if parameter.name in CUTOFFS:
        return dict.fromkeys(CUTOFFS, value)
    return {parameter.name: value}


# ------------------------------------------------------------------ Strategy against LEVERS
def test_every_strategy_field_has_a_spec_entry_and_back():
    fields = [f.name for f in dataclasses.fields(Strategy)]
    assert fields == [p.name for p in LEVERS]
    for f in dataclasses.fields(Strategy):
        assert f.default == LEVERS_BY_NAME[f.name].default, f.name


@pytest.mark.parametrize("lever", NUMERIC_LEVERS, ids=lambda p: p.name)
def test_lever_accepted_at_both_ends(lever):
    for value in ends(lever):
        assert getattr(Strategy(**{lever.name: value}), lever.name) == pytest.approx(value)


@pytest.mark.parametrize("lever", NUMERIC_LEVERS, ids=lambda p: p.name)
def test_lever_rejected_just_outside_with_a_clear_message(lever):
    for value in just_outside(lever):
        with pytest.raises(InvalidParameter) as err:
            Strategy(**{lever.name: value})
        message = str(err.value)
        assert lever.name in message and repr(value) in message and lever.allowed() in message


@pytest.mark.parametrize("lever", CHOICE_LEVERS, ids=lambda p: p.name)
def test_choice_lever_accepts_each_choice_and_rejects_others(lever):
    for choice in lever.choices:
        assert getattr(Strategy(**{lever.name: choice}), lever.name) == choice
    with pytest.raises(InvalidParameter, match="one of"):
        Strategy(**{lever.name: "frequent_flyer_miles"})


def test_every_lever_at_its_ends_runs_in_the_model():
    """Extreme levers must not break a run (no NaN, no crash)."""
    for lever in NUMERIC_LEVERS:
        for value in ends(lever):
            model = LoyaltyMarket(strategy=Strategy(**{lever.name: value}), n_customers=50, seed=1).run(2)
            assert model.summary()["active"] >= 0
    for choice in CHOICE_LEVERS[0].choices:
        LoyaltyMarket(strategy=Strategy(loyalty_programme=choice), n_customers=50, seed=1).run(2)


# ------------------------------------------------------------------ scenarios against SCENARIO_SETTINGS
@pytest.mark.parametrize("setting", SCENARIO_SETTINGS, ids=lambda p: p.name)
def test_setting_accepted_at_both_ends_by_the_model(setting):
    for value in ends(setting):
        model = LoyaltyMarket(n_customers=50, seed=1, **consistent_overrides(setting, value))
        assert model.scenario[setting.name] == pytest.approx(value)
        model.run(2)


@pytest.mark.parametrize("setting", SCENARIO_SETTINGS, ids=lambda p: p.name)
def test_setting_rejected_just_outside_with_a_clear_message(setting):
    for value in just_outside(setting):
        with pytest.raises(InvalidParameter) as err:  # the range is checked before the order of the cut-offs
            LoyaltyMarket(n_customers=50, seed=1, **{setting.name: value})
        assert setting.name in str(err.value) and setting.allowed() in str(err.value)


def test_every_scenario_file_is_within_the_spec():
    for name in ("telecom", "retail_bank", "utility", "coffee_chain"):
        scenario = load_scenario(name)
        for setting in SCENARIO_SETTINGS:
            assert setting.check(scenario[setting.name], name) == scenario[setting.name]


# ------------------------------------------------------------------ the controls come from the spec
def assert_control_matches(control, parameter, value):
    assert control.description == parameter.label
    assert control.value == pytest.approx(value) if not parameter.choices else control.value == value
    if parameter.choices:
        assert list(control.options) == list(parameter.choices)
    else:
        assert (control.min, control.max, control.step) == pytest.approx((parameter.min, parameter.max, parameter.step))
        assert control.continuous_update is False  # re-run when the value settles, not per pixel


def test_lever_widgets_match_the_spec():
    controls = lever_controls()
    assert list(controls) == [p.name for p in LEVERS]
    for parameter in LEVERS:
        assert_control_matches(controls[parameter.name], parameter, parameter.default)


def test_setting_widgets_match_the_spec_with_the_scenario_value():
    controls = setting_controls([p.name for p in SCENARIO_SETTINGS], "retail_bank")
    scenario = load_scenario("retail_bank")
    for parameter in SCENARIO_SETTINGS:
        assert_control_matches(controls[parameter.name], parameter, scenario[parameter.name])


def test_dashboard_has_a_control_for_every_lever():
    dash = dashboard(n_customers=200, months=12)
    for parameter in LEVERS:
        assert_control_matches(dash.controls[parameter.name], parameter, parameter.default)
    for name in DASHBOARD_SETTINGS:
        assert_control_matches(dash.controls[name], SETTINGS_BY_NAME[name], load_scenario("telecom")[name])


def test_solara_model_params_match_the_spec():
    from simulations.app import LoyaltyMarketPage, model_params

    params = model_params()
    for parameter in LEVERS:
        entry = params[parameter.name]
        assert entry["label"] == parameter.label and entry["value"] == parameter.default
        if parameter.choices:
            assert entry["type"] == "Select" and entry["values"] == list(parameter.choices)
        else:
            assert entry["type"] == "SliderFloat"
            assert (entry["min"], entry["max"], entry["step"]) == (parameter.min, parameter.max, parameter.step)
    # the page's model accepts exactly these keywords and builds the strategy they describe
    model = LoyaltyMarketPage(**{k: v["value"] for k, v in params.items()} | {"n_customers": 100, "service_lead": 0.1})
    assert model.strategy.service_lead == 0.1 and model.strategy == Strategy(service_lead=0.1)
