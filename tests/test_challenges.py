"""Strategy challenges: every file validates, each is solvable (a reference strategy passes, the start fails),
bad strategies get a clear message, grading is deterministic, the form works."""

from __future__ import annotations

import pytest
import yaml

from exercises import GradeResult, challenge_form, grade, list_challenges, load_challenge
from exercises.challenges import CHALLENGE_DIR, Check, score, validate_challenge
from simulations import LoyaltyLabError, LoyaltyMarket, Strategy
from simulations.firms import MAX_FIRMS
from simulations.metrics import outcomes

CHALLENGES = ["ch01_first_look", "ch02_climb_the_ladder", "ch03_tiering", "ch04_zone_of_affection", "ch05_bonds",
              "ch06_stop_the_leak", "ch07_capstone", "ch08_compete"]

# Found by running the model (three seeds, the challenges' own sizes); each is only a change of the levers the
# challenge lets the learner move, on top of its starting strategy.
REFERENCE = {
    "ch01_first_look": dict(product_quality=0.85, cross_sell=0.5),
    "ch02_climb_the_ladder": dict(frontline_care=0.9, staying_in_touch=0.8, cross_sell=0.7, targeting_precision=0.8),
    "ch03_tiering": dict(service_platinum=1.0, service_gold=0.9, service_iron=0.8, service_lead=0.2),
    "ch04_zone_of_affection": dict(product_quality=0.8, frontline_care=0.8, service_platinum=0.8, service_gold=0.8),
    "ch05_bonds": dict(structural_bond=0.7, cross_sell=0.9, customization_bond=0.6, staying_in_touch=0.7,
                       loyalty_programme="cobranded_card", reward_rate=0.03),
    "ch06_stop_the_leak": dict(frontline_care=0.9, feedback_channel=0.8, staying_in_touch=0.7, product_quality=0.8,
                               service_platinum=0.8, service_gold=0.7, service_iron=0.5, service_lead=0.3),
    "ch07_capstone": dict(service_platinum=0.9, service_gold=0.8, service_iron=0.5, service_lead=0.3, product_quality=0.9,
                          frontline_care=0.8, feedback_channel=0.6, cross_sell=0.8, targeting_precision=0.8),
    "ch08_compete": dict(product_quality=0.7, frontline_care=0.8, feedback_channel=0.7, staying_in_touch=0.7,
                         cross_sell=0.8, structural_bond=0.6),
}


def test_one_challenge_per_chapter():
    assert list_challenges() == CHALLENGES
    assert [load_challenge(c)["chapter"] for c in CHALLENGES] == [f"ch{n:02d}" for n in range(1, 9)]


@pytest.mark.parametrize("challenge_id", CHALLENGES)
def test_challenge_file_validates(challenge_id):
    challenge = load_challenge(challenge_id)
    assert challenge["id"] == challenge_id
    assert isinstance(challenge["starting_strategy"], Strategy)
    assert len(challenge["seeds"]) >= 3 and challenge["hints"] and challenge["teaches"]


@pytest.mark.parametrize("challenge_id", CHALLENGES)
def test_reference_passes_and_starting_strategy_fails(challenge_id):
    reference = grade(challenge_id, REFERENCE[challenge_id])
    assert reference.passed, reference.to_text()
    assert reference.score == 100
    start = grade(challenge_id, load_challenge(challenge_id)["starting_strategy"])
    assert not start.passed and start.score < 100
    assert start.baseline == reference.baseline  # the same seeds: the same customers for both


def passed_check(kind, target, baseline, value):
    return Check("profit", kind, target, value, baseline, True, 1.0)


@pytest.mark.parametrize("main", [
    passed_check("relative_gain_at_least", 0.10, 1000.0, 1160.0),  # beat a +10% goal by 6 points: once "100.6"
    passed_check("relative_cut_at_least", 0.20, 50.0, 5.0),         # cut by 90% against 20% asked
    passed_check("gain_at_least", 0.05, 0.6, 0.9),
])
def test_score_is_capped_at_100_however_far_the_goal_is_beaten(main):
    other = Check("retention_12m", "at_least", 0.7, 0.95, 0.6, True, 1.0)
    assert score([main, other]) == 100.0
    assert score([main]) == 100.0


def test_score_of_an_unmet_goal_stays_below_100():
    met = Check("retention_12m", "at_least", 0.7, 0.95, 0.6, True, 1.0)
    almost = Check("profit", "at_least", 1000.0, 999.0, 0.0, False, 0.999)
    assert score([met, almost]) == 99.0
    assert score([Check("profit", "at_least", 1000.0, 500.0, 0.0, False, 0.5)]) == 50.0


def test_goals_are_not_met_by_doing_nothing_new():
    """No challenge is passed by a preset the learner could pick without thinking (where the levers allow it)."""
    for challenge_id in ("ch01_first_look", "ch07_capstone"):
        for preset in ("balanced", "neglect", "tiered", "bonding"):
            assert not grade(challenge_id, preset).passed, (challenge_id, preset)
    assert not grade("ch03_tiering", {"service_platinum": 0.95, "service_gold": 0.8, "service_iron": 0.5,
                                      "service_lead": 0.2}).passed  # the tiered preset's service levels


def test_grading_is_deterministic():
    first, second = (grade("ch03_tiering", REFERENCE["ch03_tiering"]) for _ in range(2))
    assert first.outcome == second.outcome and first.score == second.score and first.feedback == second.feedback


def test_result_has_what_the_interface_promises():
    result = grade("ch05_bonds", REFERENCE["ch05_bonds"])
    assert isinstance(result, GradeResult)
    assert {"profit", "retention_12m", "churned_competitor", "share_hostage"} <= set(result.outcome) == set(result.baseline)
    text = result.to_text()
    assert "PASSED" in text and "competitor's lure" in text and "Switching costs rose" in text
    assert "<li>" in result._repr_html_()


def test_feedback_speaks_of_tiers_causes_and_quadrants():
    feedback = " ".join(grade("ch06_stop_the_leak", REFERENCE["ch06_stop_the_leak"]).feedback)
    assert "indifference" in feedback and "Lead tier" in feedback and "Apostles" in feedback
    failing = grade("ch01_first_look", "bonding")
    assert not failing.passed and failing.feedback[-1].startswith("Hint:")
    assert "hostages" in " ".join(failing.feedback).lower()


def test_strategy_as_a_yaml_file(tmp_path):
    path = Strategy.preset("balanced").replace(**REFERENCE["ch01_first_look"]).to_file(tmp_path / "team.yaml")
    assert grade("ch01_first_look", path).passed
    assert grade("ch01_first_look", str(path)).outcome == grade("ch01_first_look", REFERENCE["ch01_first_look"]).outcome


@pytest.mark.parametrize("strategy, message", [
    ({"service_gold": 1.2}, "service_gold.*1.2.*allowed: a number from 0 to 1"),
    ({"servce_gold": 0.5}, "no field 'servce_gold'"),
    ({"loyalty_programme": "air_miles"}, "loyalty_programme.*one of none"),
    ("aggressive", "neither a preset"),
    ({"cross_sell": 0.9}, "ch03_tiering.*cross_sell.*lets you change only"),
])
def test_bad_strategies_get_a_clear_error(strategy, message):
    with pytest.raises(LoyaltyLabError, match=message):
        grade("ch03_tiering", strategy)


def test_bad_strategy_files_get_a_clear_error(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("service_gold: [0.5\n")
    with pytest.raises(LoyaltyLabError, match="broken.yaml.*not valid YAML"):
        grade("ch03_tiering", broken)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("service_golden: 0.5\n")
    with pytest.raises(LoyaltyLabError, match="unknown.yaml.*service_golden"):
        grade("ch03_tiering", unknown)
    with pytest.raises(LoyaltyLabError, match="not a challenge"):
        grade("ch99_nothing", "balanced")


def _challenge_data(**changes):
    data = yaml.safe_load((CHALLENGE_DIR / "ch03_tiering.yaml").read_text())
    data.update(changes)
    return data


@pytest.mark.parametrize("changes, message", [
    (dict(months=0), "months.*0.*a whole number from 12 to 120"),
    (dict(scenario="airline"), "scenario.*airline.*one of coffee_chain"),
    (dict(seeds=[]), "seeds"),
    (dict(colour="red"), "no field 'colour'"),
    (dict(chapter="ch9"), "chapter.*one of ch01"),
    (dict(starting_strategy={"service_lead": 3}), "starting_strategy.*service_lead"),
    (dict(levers=["service_leed"]), "levers"),
    (dict(goal={"description": "x", "conditions": [{"metric": "happiness", "at_least": 1}]}), "metric.*happiness"),
    (dict(goal={"description": "x", "conditions": [{"metric": "profit", "more_than": 1}]}), "more_than.*one of at_least"),
    (dict(hints=[]), "hints"),
])
def test_bad_challenge_data_names_file_field_value_and_allowed(changes, message):
    with pytest.raises(LoyaltyLabError, match=message):
        validate_challenge(_challenge_data(**changes), source="challenge file test.yaml", expected_id="ch03_tiering")


def test_malformed_challenge_file(tmp_path):
    path = tmp_path / "ch03_tiering.yaml"
    path.write_text("id: ch03_tiering\ngoal: [unclosed\n")
    with pytest.raises(LoyaltyLabError, match="ch03_tiering.yaml.*not valid YAML"):
        load_challenge(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(LoyaltyLabError, match="expected a mapping"):
        load_challenge(path)


def test_form_submits_shows_feedback_and_saves_a_tournament_file(tmp_path):
    form = challenge_form("ch03_tiering")
    assert set(form.controls) == set(load_challenge("ch03_tiering")["levers"])
    for name, value in REFERENCE["ch03_tiering"].items():
        form.controls[name].value = value
    result = form.submit()
    assert result.passed and "Passed" in form.report.value
    path = form.save(tmp_path / "team.yaml")
    assert Strategy.from_file(path) == form.strategy() and "Saved" in form.message.value
    assert form.save(tmp_path / "team.txt") is None and "ending in .yaml" in form.message.value


def test_form_shows_a_message_not_a_traceback(monkeypatch):
    form = challenge_form("ch01_first_look")
    monkeypatch.setattr(form, "strategy", lambda: {"service_gold": 7})
    assert form.submit() is None
    assert "Not graded" in form.message.value and "service_gold" in form.message.value


# ------------------------------------------------------------------ a challenge among rivals, and one firm's outcomes
def test_rival_challenge_grades_the_learners_firm_and_matching_the_price_does_not_pay():
    """ch08_compete: matching the discounter's price takes share back but gives the profit away (seeds 11-13)."""
    match = grade("ch08_compete", {"price_index": 0.88})
    assert not match.passed
    assert match.outcome["market_share"] > match.baseline["market_share"] + 0.05
    assert match.outcome["profit"] < 0.5 * match.baseline["profit"]
    text = match.to_text()
    assert "Against the rivals" in text and "Market share at the end" in text and "points" in text
    assert "Profit by tier" not in text  # a firm's books among rivals keep no profit by tier


@pytest.mark.parametrize("changes, message", [
    (dict(rivals=["discounter"]), "rivals.*a mapping of rival name"),
    (dict(rivals={"You": "balanced"}), "rivals.*'you'.*learner's firm"),
    (dict(rivals={"cheap": {"price_index": 3}}), "rivals.cheap.*price_index"),
    (dict(rivals={f"r{i}": "balanced" for i in range(MAX_FIRMS)}), f"rivals.*from 1 to {MAX_FIRMS} firms"),
    (dict(goal={"description": "x", "conditions": [{"metric": "market_share", "at_least": 0.5}]}),
     "market_share.*add 'rivals:'"),
    (dict(rivals={"cheap": "balanced"}, goal={"description": "x", "conditions": [{"metric": "profit_lead", "at_least": 0}]}),
     "profit_lead.*a metric kept per firm"),
])
def test_bad_rivals_name_the_field(changes, message):
    with pytest.raises(LoyaltyLabError, match=message):
        validate_challenge(_challenge_data(**changes), source="challenge file test.yaml", expected_id="ch03_tiering")


def test_outcomes_of_the_only_firm_equal_the_market_outcomes():
    model = LoyaltyMarket("telecom", "balanced", n_customers=800, seed=3).run(14)
    market, firm = outcomes(model), outcomes(model, firm="firm")
    assert set(market) - set(firm) == {f"profit_{t}" for t in ("platinum", "gold", "iron", "lead")}
    assert set(firm) - set(market) == {"market_share", "won_from_rivals", "lost_to_rivals"}
    # the market's means come from the monthly record (summed in one compiled pass), the firm's from its arrays
    assert {key: firm[key] for key in market if key in firm} == pytest.approx(
        {key: market[key] for key in market if key in firm}, rel=1e-12)
    assert firm["market_share"] == 1.0 and firm["won_from_rivals"] == firm["lost_to_rivals"] == 0


def test_outcomes_of_rival_firms_add_up_to_the_market():
    model = LoyaltyMarket("telecom", firms={"a": "balanced", "b": "neglect", "c": "bonding"}, n_customers=900, seed=3).run(14)
    market, firms = outcomes(model), [outcomes(model, firm=name) for name in model.firms]
    for key in ("profit", "revenue", "cost", "active", "acquired", "churned", "churned_competitor", "churned_indifference",
                "tier_gold", "upper_rungs", "advocates"):
        assert sum(f[key] for f in firms) == pytest.approx(market[key]), key
    assert sum(f["won_from_rivals"] for f in firms) == sum(f["lost_to_rivals"] for f in firms) > 0
    assert sum(f["market_share"] for f in firms) == pytest.approx(1.0)
    table = model.firm_table().set_index("firm")
    for name, firm in zip(model.firms, firms):
        assert firm["acquired"] == firm["active"] + firm["churned"]  # the ledger's identity, per firm
        assert firm["profit"] == pytest.approx(table.loc[name, "profit"]) and firm["nps"] == table.loc[name, "nps"]
    assert firms[1]["mean_satisfaction"] < firms[0]["mean_satisfaction"]  # the neglectful firm's own customers


def test_outcomes_of_an_unknown_firm_name_it():
    model = LoyaltyMarket("telecom", firms={"a": "balanced", "b": "balanced"}, n_customers=200, seed=1).run(2)
    with pytest.raises(ValueError, match="'c'.*allowed: a, b"):
        outcomes(model, firm="c")
