"""The firm's levers: validation, presets, copies, YAML files and their errors."""

import dataclasses

import pytest

from simulations import LoyaltyLabError, Strategy, UnknownField, UnknownScenario
from simulations.errors import BadFile, DuplicateField, InvalidParameter, ManyErrors
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


# ---------------------------------------------------------------------------------------------- issue 10: team files
@pytest.mark.parametrize("content", ["", "\n\n", "# our strategy\n# (to do)\n", "{}\n"])
def test_an_empty_or_comment_only_file_is_refused(tmp_path, content):
    """An empty file used to play silently as the balanced firm."""
    path = tmp_path / "team.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BadFile, match="empty or holds only comments") as caught:
        Strategy.from_file(path)
    assert str(path) in str(caught.value)
    assert caught.value.as_dict()["field"] == "file" and caught.value.allowed


def test_a_lever_given_twice_is_refused_naming_both_lines(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text("# team red\nfrontline_care: 0.9\nreward_rate: 0.02\nfrontline_care: 0.1\n", encoding="utf-8")
    with pytest.raises(DuplicateField) as caught:
        Strategy.from_file(path)
    err = caught.value
    assert err.field == "frontline_care" and err.line == 4 and err.first_line == 2
    assert "line 4" in str(err) and "line 2" in str(err) and str(path) in str(err)
    assert err.allowed == "each field once"


def test_the_same_lever_in_two_cases_counts_as_given_twice():
    with pytest.raises(DuplicateField, match="'Frontline_Care'.*'frontline_care'"):
        Strategy.from_dict({"Frontline_Care": 0.9, "frontline_care": 0.1})


def test_every_error_in_a_file_is_reported_at_once(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text("frontline_car: 0.8\nreward_rate: 5\nservice_gold: high\nloyalty_programme: airmiles\n"
                    "cross_sell: 0.4\ncross_sell: 0.5\n", encoding="utf-8")
    with pytest.raises(ManyErrors) as caught:
        Strategy.from_file(path)
    err = caught.value
    assert isinstance(err, LoyaltyLabError) and isinstance(err, ValueError)
    fields = sorted(e.field for e in err.errors)
    assert fields == ["cross_sell", "frontline_car", "loyalty_programme", "reward_rate", "service_gold"]
    by_field = {e.field: e for e in err.errors}
    assert by_field["reward_rate"].value == 5 and by_field["reward_rate"].allowed == "a number from 0 to 0.1"
    assert by_field["service_gold"].value == "high"
    assert "frontline_care" in by_field["frontline_car"].allowed
    message = str(err)
    assert message.startswith(f"{path}: 5 errors: ")
    for fragment in ("did you mean 'frontline_care'", "'reward_rate': 5", "'service_gold': 'high'", "airmiles",
                     "given twice"):
        assert fragment in message
    # what the classroom's HTTP API will answer: field, value and allowed for each error
    answer = err.as_dict()
    assert [e["field"] for e in answer["errors"]] == [e.field for e in err.errors]
    assert all({"field", "value", "allowed"} <= set(e) for e in answer["errors"])
    assert (answer["field"], answer["value"]) == (err.errors[0].field, err.errors[0].value)


def test_a_single_error_keeps_its_type_message_and_lists_itself(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text("frontline_care: 3\n", encoding="utf-8")
    with pytest.raises(InvalidParameter) as caught:
        Strategy.from_file(path)
    err = caught.value
    assert str(err) == f"{path}: strategy field 'frontline_care': 3 is not allowed; allowed: a number from 0 to 1"
    assert err.errors == [err]
    assert err.as_dict() == {"field": "frontline_care", "value": 3, "allowed": "a number from 0 to 1",
                             "message": str(err)}


def test_lever_names_match_whatever_their_case(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text("Frontline_Care: 0.9\nPRICE_INDEX: 1.1\n", encoding="utf-8")
    assert Strategy.from_file(path) == Strategy(frontline_care=0.9, price_index=1.1)
    assert Strategy.coerce({"Cross_Sell": 0.1}).cross_sell == 0.1
    assert Strategy.preset("Neglect") == Strategy.preset("neglect")


@pytest.mark.parametrize("typo, meant", [("Frontline_Cair", "frontline_care"), ("front_line_care", "frontline_care"),
                                         ("servce_gold", "service_gold"), ("pricing_index", "price_index")])
def test_a_near_miss_gets_did_you_mean(typo, meant):
    with pytest.raises(UnknownField) as caught:
        Strategy.from_dict({typo: 0.5})
    assert f"did you mean '{meant}'" in str(caught.value)
    assert caught.value.suggestions[0] == meant and caught.value.value == 0.5


def test_an_unknown_market_gets_did_you_mean():
    from simulations.markets import resolve_market

    assert resolve_market("TELECOM") == "telecom" and resolve_market(" Retail_Bank ") == "retail_bank"
    with pytest.raises(UnknownScenario) as caught:
        resolve_market("telcom")
    assert "did you mean 'telecom'" in str(caught.value)
    assert caught.value.as_dict()["field"] == "scenario" and "telecom" in caught.value.allowed


def test_a_strategy_file_is_written_whole(tmp_path):
    path = Strategy(frontline_care=0.8).to_file(tmp_path / "team.yaml")
    assert Strategy.from_file(path).frontline_care == 0.8
    assert [p.name for p in tmp_path.iterdir()] == ["team.yaml"]  # no temporary file left beside it
