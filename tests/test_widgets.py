"""The notebook dashboard and the focused widgets: built from the spec, one re-run per settled value."""

from __future__ import annotations

import pytest

from simulations import InvalidParameter, Strategy, UnknownField
from simulations.widgets import (MarketExplorer, bonds_widget, care_widget, dashboard, ladder_widget,
                                 satisfaction_widget, tier_service_widget)

SMALL = dict(n_customers=300, months=24)


@pytest.fixture
def dash():
    return dashboard(**SMALL)


def test_dashboard_builds_and_runs_once(dash):
    assert isinstance(dash, MarketExplorer)
    assert dash.runs == 1
    assert dash.png.startswith(b"\x89PNG") and len(dash.figure.axes) == 6
    assert "300 customers x 24 months" in dash.timing.value
    assert len(dash.frame) == 25  # month 0 and 24 months


def test_moving_a_slider_reruns_exactly_once_and_redraws(dash):
    before_png, before_timing, before_profit = dash.png, dash.timing.value, dash.frame["profit"].sum()
    dash.controls["service_lead"].value = 0.0  # what a settled slider drag does
    assert dash.runs == 2
    assert dash.timing.value.startswith("run 2:") and dash.timing.value != before_timing
    assert dash.png != before_png
    assert dash.frame["profit"].sum() != before_profit
    assert dash.strategy().service_lead == 0.0


def test_set_several_values_is_one_rerun(dash):
    dash.set(frontline_care=0.9, feedback_channel=0.9, months=36)
    assert dash.runs == 2
    assert len(dash.frame) == 37
    assert dash.strategy() == Strategy(frontline_care=0.9, feedback_channel=0.9)


def test_preset_and_scenario_pickers(dash):
    dash.set(preset="neglect")
    assert dash.runs == 2 and dash.strategy() == Strategy.preset("neglect")
    dash.set(scenario="utility")
    assert dash.runs == 3 and dash.controls["competitive_intensity"].value == pytest.approx(0.05)


def test_the_preset_label_follows_the_levers_without_extra_runs(dash):
    dash.controls["service_lead"].value = 0.1
    assert dash.preset_picker.value == "(custom)" and dash.runs == 2
    dash.set(preset="tiered")
    dash.controls["service_lead"].value = 0.3
    dash.controls["service_lead"].value = Strategy.preset("tiered").service_lead  # back on the preset
    assert dash.preset_picker.value == "tiered" and dash.runs == 5


def test_invalid_values_are_refused_clearly_and_nothing_reruns(dash):
    with pytest.raises(InvalidParameter, match="service_gold.*allowed: a number from 0 to 1"):
        dash.set(service_gold=1.5)
    with pytest.raises(UnknownField, match="servce_gold"):
        dash.set(servce_gold=0.5)
    with pytest.raises(InvalidParameter, match="months"):
        dash.set(months=5)
    with pytest.raises(InvalidParameter, match="scenario"):
        dash.set(scenario="airline")
    with pytest.raises(InvalidParameter, match="months"):
        dash.set(service_lead=0.1, months=500)  # one bad value: none of them is set
    assert dash.runs == 1 and dash.strategy() == Strategy()


def test_a_model_error_shows_a_message_instead_of_a_traceback(monkeypatch, dash):
    from simulations import widgets

    def refuse(*args, **kwargs):
        raise InvalidParameter("scenario", "competitive_intensity", 2, "a number from 0 to 1")

    monkeypatch.setattr(widgets, "run_market", refuse)
    dash.controls["cross_sell"].value = 0.9
    assert "Not run" in dash.message.value and "competitive_intensity" in dash.message.value
    assert dash.runs == 1


@pytest.mark.parametrize("make, levers, panels", [
    (tier_service_widget, {"service_platinum", "service_gold", "service_iron", "service_lead"}, 2),
    (bonds_widget, {"cross_sell", "loyalty_programme", "reward_rate", "social_bond", "customization_bond", "structural_bond"}, 2),
    (care_widget, {"frontline_care", "feedback_channel", "staying_in_touch"}, 2),
    (satisfaction_widget, {"product_quality", "frontline_care", "price_index", "competitive_intensity"}, 2),
    (ladder_widget, {"acquisition_budget", "targeting_precision", "frontline_care", "feedback_channel", "staying_in_touch",
                     "cross_sell"}, 2),
])
def test_focused_widgets_build_with_only_their_levers(make, levers, panels):
    widget = make(**SMALL)
    assert set(widget.controls) == levers | {"n_customers", "months", "seed"}
    assert widget.runs == 1 and len(widget.figure.axes) == panels
    name = sorted(levers - {"loyalty_programme"})[0]
    control = widget.controls[name]
    control.value = control.max if control.value == control.min else control.min
    assert widget.runs == 2


def test_focused_widget_keeps_the_other_levers_of_its_starting_strategy():
    widget = care_widget(**SMALL)  # starts from neglect
    widget.controls["frontline_care"].value = 0.9
    assert widget.strategy() == Strategy.preset("neglect").replace(frontline_care=0.9)
