"""The firm's levers: validation, presets, copies, YAML files and their errors."""

import dataclasses

import pytest

from simulations import LoyaltyLabError, Strategy, UnknownField
from simulations.errors import BadFile, InvalidParameter
from simulations.parameters import LEVERS
from simulations.strategy import PRESET_DESCRIPTIONS, PRESETS


def test_defaults_are_the_spec_defaults_and_the_balanced_preset():
    assert Strategy().as_dict() == {lever.name: lever.default for lever in LEVERS}
    assert Strategy.preset("balanced") == Strategy()


def test_presets_exist_and_say_what_they_are():
    assert {"neglect", "balanced", "tiered", "bonding"} <= set(PRESETS) == set(PRESET_DESCRIPTIONS)
    neglect, tiered, bonding = (Strategy.preset(n) for n in ("neglect", "tiered", "bonding"))
    assert neglect.frontline_care < 0.1 and neglect.feedback_channel == 0 and neglect.product_quality < 0.5
    assert tiered.service_platinum > tiered.service_gold > tiered.service_iron > tiered.service_lead
    assert bonding.loyalty_programme != "none" and bonding.structural_bond > Strategy().structural_bond


def test_strategy_is_frozen_and_replace_validates():
    s = Strategy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.frontline_care = 0.9
    assert s.replace(frontline_care=0.9).frontline_care == 0.9 and s.frontline_care == 0.6
    with pytest.raises(InvalidParameter, match="'frontline_care': 1.9"):
        s.replace(frontline_care=1.9)
    with pytest.raises(UnknownField, match="frontline_cares"):
        s.replace(frontline_cares=0.5)


@pytest.mark.parametrize("levers, field", [
    ({"price_index": 2.0}, "price_index"), ({"reward_rate": -0.01}, "reward_rate"),
    ({"loyalty_programme": "airmiles"}, "loyalty_programme"), ({"cross_sell": "lots"}, "cross_sell"),
    ({"cross_sell": True}, "cross_sell"), ({"cross_sell": float("nan")}, "cross_sell"),
])
def test_out_of_range_levers_are_named(levers, field):
    with pytest.raises(InvalidParameter) as caught:
        Strategy(**levers)
    assert caught.value.field == field and "allowed" in str(caught.value)


def test_yaml_round_trip_with_comments(tmp_path):
    original = Strategy.preset("bonding").replace(price_index=1.05)
    path = original.to_file(tmp_path / "team.yaml")
    text = path.read_text()
    assert text.count("# ") >= len(LEVERS) and "Allowed:" in text
    assert Strategy.from_file(path) == original


def test_partial_files_fill_in_defaults(tmp_path):
    path = tmp_path / "partial.yaml"
    path.write_text("frontline_care: 0.9\n")
    assert Strategy.from_file(path) == Strategy(frontline_care=0.9)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert Strategy.from_file(empty) == Strategy()


@pytest.mark.parametrize("content, expected", [
    ("frontline_care: [0.5\n", "not valid YAML"),
    ("- 0.5\n", "mapping"),
    ("frontline_care: 3\n", "'frontline_care': 3"),
    ("front_line_care: 0.5\n", "no field 'front_line_care'"),
    ("!!python/object/apply:os.system ['echo hacked']\n", "not valid YAML"),
])
def test_bad_files_say_which_file_and_field(tmp_path, content, expected):
    path = tmp_path / "team.yaml"
    path.write_text(content)
    with pytest.raises(LoyaltyLabError) as caught:
        Strategy.from_file(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(BadFile, match="cannot be read"):
        Strategy.from_file(tmp_path / "nope.yaml")


def test_coerce_accepts_the_documented_forms_only():
    assert Strategy.coerce(None) == Strategy() and Strategy.coerce("neglect") == Strategy.preset("neglect")
    assert Strategy.coerce({"cross_sell": 0.1}).cross_sell == 0.1
    with pytest.raises(LoyaltyLabError, match="allowed"):
        Strategy.coerce(42)
