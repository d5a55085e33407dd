"""The simulated market as a whole: interface, ledger, reproducibility, scenarios, extremes, bad input."""

import mesa
import numpy as np
import pandas as pd
import pytest

from simulations import (InvalidParameter, LoyaltyLabError, LoyaltyMarket, Strategy, UnknownField, UnknownScenario,
                         list_scenarios, load_scenario, rules)
from simulations.metrics import retention_by_satisfaction, top_share, whale_curve
from simulations.parameters import LEVERS

REQUIRED_COLUMNS = (
    ["active", "acquired", "retention_12m", "mean_satisfaction", "nps", "revenue", "cost", "profit"]
    + [f"churned_{c}" for c in ("death", "moved", "other_relationships", "competitor", "product", "indifference")]
    + [f"tier_{t}" for t in ("platinum", "gold", "iron", "lead")]
    + [f"stage_{s}" for s in ("suspect", "prospect", "disqualified", "first_time", "repeat", "client", "advocate")]
    + [f"loyalty_{t}" for t in rules.DICK_BASU_TYPES]
    + [f"quadrant_{q}" for q in ("apostle", "mercenary", "hostage", "defector")]
)


def extreme_strategy(end):
    """Every lever at its minimum ('min') or maximum ('max'); the programme at its last kind for 'max'."""
    levers = {}
    for lever in LEVERS:
        if lever.choices:
            levers[lever.name] = lever.choices[0] if end == "min" else lever.choices[-1]
        else:
            levers[lever.name] = lever.min if end == "min" else lever.max
    return Strategy(**levers)


@pytest.fixture(scope="module")
def telecom_run():
    return LoyaltyMarket(scenario="telecom", strategy=Strategy(), n_customers=1000, seed=42).run(36)


def test_public_interface_and_columns(telecom_run):
    df = telecom_run.datacollector.get_model_vars_dataframe()
    assert len(df) == 37 and list(df["month"]) == list(range(37))  # month 0 (the start) and one row a month
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    assert not missing
    summary = telecom_run.summary()
    for key in ("active", "acquired", "retention_12m", "mean_satisfaction", "nps", "revenue", "profit", "churned"):
        assert key in summary
    assert set(summary["churned"]) == set(rules.CHURN_CAUSES)
    assert summary["profit"] == pytest.approx(df["profit"].sum())
    assert summary["active"] == df["active"].iloc[-1]


def test_step_is_one_month_and_run_is_many_steps():
    a = LoyaltyMarket(n_customers=300, seed=5)
    for _ in range(4):
        a.step()
    b = LoyaltyMarket(n_customers=300, seed=5).run(4)
    pd.testing.assert_frame_equal(a.datacollector.get_model_vars_dataframe(), b.datacollector.get_model_vars_dataframe())
    assert a.month == 4 and a.steps == 4


@pytest.mark.parametrize("scenario", list_scenarios())
@pytest.mark.parametrize("strategy", ["balanced", "min", "max"])
def test_every_scenario_runs_24_months_and_keeps_the_ledger(scenario, strategy):
    plan = strategy if strategy == "balanced" else extreme_strategy(strategy)
    model = LoyaltyMarket(scenario=scenario, strategy=plan, n_customers=400, seed=3)
    people = len(model.people.stage)
    for _ in range(24):
        model.step()
        df_row = model._record
        churned = sum(df_row[f"churned_{c}"] for c in rules.CHURN_CAUSES)
        assert df_row["acquired"] == df_row["active"] + churned  # nobody lost, nobody counted twice
        assert sum(df_row[f"stage_{s}"] for s in rules.STAGES) == people
        assert sum(df_row[f"tier_{t}"] for t in rules.TIERS) == df_row["active"]
        assert sum(df_row[f"quadrant_{q}"] for q in rules.QUADRANTS) == df_row["active"]
        p = model.people
        for name in ("satisfaction", "expectation", "share_of_wallet", "neglect", "switching", "voluntary_hazard",
                     "social", "customization", "structural"):
            values = getattr(p, name)
            assert np.all((values >= 0) & (values <= 1)), name
        assert -100 <= df_row["nps"] <= 100
    df = model.datacollector.get_model_vars_dataframe()
    assert df["acquired"].is_monotonic_increasing and df["churned"].is_monotonic_increasing
    assert np.isfinite(df["profit"]).all()


@pytest.mark.parametrize("engine", ["fast", "numpy"])
def test_a_month_left_out_of_the_record_is_the_same_month(engine):
    """`step(record=False)` (a cohort's survival reads only the people) changes no one's month, only what is recorded."""
    recorded = LoyaltyMarket("telecom", firms={"a": "balanced", "b": "neglect"}, n_customers=600, seed=3, engine=engine)
    quiet = LoyaltyMarket("telecom", firms={"a": "balanced", "b": "neglect"}, n_customers=600, seed=3, engine=engine)
    for _ in range(14):  # past a tier review
        recorded.step()
        quiet.step(record=False)
    for name in vars(recorded.people):
        assert np.array_equal(getattr(recorded.people, name), getattr(quiet.people, name)), name
    assert np.array_equal(recorded.ledger.revenue, quiet.ledger.revenue)
    assert quiet.month == recorded.month == 14
    assert len(recorded.datacollector.get_model_vars_dataframe()) == 15
    assert len(quiet.datacollector.get_model_vars_dataframe()) == 1  # month 0 only


def test_same_seed_same_run_different_seed_different_run():
    runs = [LoyaltyMarket("retail_bank", "bonding", 500, seed=s).run(18).datacollector.get_model_vars_dataframe()
            for s in (7, 7, 8)]
    pd.testing.assert_frame_equal(runs[0], runs[1])
    assert not runs[0].equals(runs[2])


def test_seedless_runs_differ():
    a = LoyaltyMarket(n_customers=300).run(6).summary()
    b = LoyaltyMarket(n_customers=300).run(6).summary()
    assert a != b


def test_agents_engine_applies_the_same_rules():
    """The agent-by-agent engine (each Customer.step) gives the same kind of market as the vectorised one."""
    numpy_runs, agent_runs = [], []
    for seed in (1, 2):
        numpy_runs.append(LoyaltyMarket(n_customers=300, seed=seed).run(12).summary())
        agent_runs.append(LoyaltyMarket(n_customers=300, seed=seed, engine="agents").run(12).summary())
    for key in ("retention_12m", "mean_satisfaction"):
        assert np.mean([r[key] for r in agent_runs]) == pytest.approx(np.mean([r[key] for r in numpy_runs]), abs=0.05)
    model = LoyaltyMarket(n_customers=50, seed=1, engine="agents").run(3)
    assert model.totals["acquired"] == model._record["active"] + sum(model.totals["churned"].values())


def test_customers_are_mesa_agents_that_read_the_market():
    model = LoyaltyMarket(n_customers=200, seed=9).run(6)
    customers = model.customers  # created on first use: the numpy engine never steps them
    assert len(customers) == len(model.people.stage)
    active = [c for c in customers if c.is_active]
    assert len(active) == model._record["active"]
    someone = active[0]
    assert someone.stage in rules.STAGES and someone.tier in rules.TIERS
    assert 0 <= someone.satisfaction <= 1 and someone.products >= 1 and someone.churn_cause is None
    assert "Customer(seat=" in repr(someone)
    lost = [c for c in customers if c.stage == "lost"]
    assert all(c.churn_cause in rules.CHURN_CAUSES for c in lost)


def test_mesa_batch_run_takes_scenario_strategy_settings_and_seed():
    results = mesa.batch_run(
        LoyaltyMarket,
        parameters={"scenario": "coffee_chain", "strategy": ["balanced", "neglect"], "competitive_intensity": [0.2, 0.9],
                    "n_customers": 200, "seed": 1},
        max_steps=6, number_processes=1, display_progress=False,
    )
    frame = pd.DataFrame(results)
    assert len(frame) == 4 and set(frame["strategy"]) == {"balanced", "neglect"}
    assert (frame["Step"] == 6).all() and "retention_12m" in frame


def test_scenario_overrides_and_strategy_forms():
    model = LoyaltyMarket(scenario="telecom", strategy="tiered", n_customers=100, seed=1, competitive_intensity=0.1)
    assert model.scenario["competitive_intensity"] == 0.1 and model.strategy == Strategy.preset("tiered")
    assert LoyaltyMarket(strategy={"frontline_care": 0.9}, n_customers=100, seed=1).strategy.frontline_care == 0.9
    assert load_scenario("utility")["competitive_intensity"] < 0.2
    assert len(list_scenarios()) >= 4


def test_scenarios_span_competitive_intensity_and_document_their_numbers():
    intensities = sorted(load_scenario(name)["competitive_intensity"] for name in list_scenarios())
    assert intensities[0] <= 0.1 and intensities[-1] >= 0.9
    from simulations.scenarios import SCENARIO_DIR
    for path in SCENARIO_DIR.glob("*.yaml"):
        text = path.read_text()
        assert text.startswith("#") and text.count("#") >= 8, f"{path.name} must say where its numbers come from"


@pytest.mark.parametrize("call, field", [
    (lambda: LoyaltyMarket(scenario="mars"), "mars"),
    (lambda: LoyaltyMarket(competitive_intensity=1.5), "competitive_intensity"),
    (lambda: LoyaltyMarket(competitve_intensity=0.5), "competitve_intensity"),
    (lambda: LoyaltyMarket(n_customers=5), "n_customers"),
    (lambda: LoyaltyMarket(strategy="generous"), "generous"),
    (lambda: LoyaltyMarket(strategy={"frontline_care": 2}), "frontline_care"),
    (lambda: LoyaltyMarket(engine="gpu"), "engine"),
    (lambda: LoyaltyMarket(n_customers=100).run(-1), "months"),
    (lambda: LoyaltyMarket(platinum_cutoff=-5, gold_cutoff=8), "platinum_cutoff"),
])
def test_bad_input_names_the_field_the_value_and_what_is_allowed(call, field):
    with pytest.raises(LoyaltyLabError) as caught:
        call()
    message = str(caught.value)
    assert field in message and ("allowed" in message or "known" in message)
    assert isinstance(caught.value, ValueError)


def test_unknown_scenario_and_field_errors_have_their_types():
    with pytest.raises(UnknownScenario):
        load_scenario("atlantis")
    with pytest.raises(UnknownField, match="did you mean 'competitive_intensity'"):
        load_scenario("telecom", competitive=0.3)
    with pytest.raises(InvalidParameter, match="a number from 0 to 1"):
        load_scenario("telecom", gross_margin="high")


def test_scenario_file_errors(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("competitive_intensity: [0.5\n")
    with pytest.raises(LoyaltyLabError, match="not valid YAML"):
        load_scenario(broken)
    listed = tmp_path / "listed.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(LoyaltyLabError, match="mapping"):
        load_scenario(listed)
    custom = tmp_path / "island.yaml"
    custom.write_text("description: An island shop\ncompetitive_intensity: 0.0\n")
    assert load_scenario(custom)["name"] == "island"
    assert LoyaltyMarket(scenario=str(custom), n_customers=100, seed=1).run(3).summary()["scenario"] == "island"


def test_customer_table_and_profit_metrics(telecom_run):
    table = telecom_run.customer_table()
    assert len(table) == telecom_run._record["active"]
    assert set(table["tier"]) <= set(rules.TIERS) and set(table["quadrant"]) <= set(rules.QUADRANTS)
    curve = whale_curve(table["monthly_profit"])
    assert curve["share_of_profit"].iloc[-1] == pytest.approx(1.0)
    assert 0 < top_share(table["monthly_profit"], 0.2) <= curve["share_of_profit"].max()


def test_retention_by_satisfaction_advances_the_model_and_counts_everyone():
    model = LoyaltyMarket(n_customers=500, seed=4).run(6)
    active = model._record["active"]
    bands = retention_by_satisfaction(model, 6)
    assert model.month == 12
    assert bands["customers"].sum() == active
    assert bands["retention"].dropna().between(0, 1).all()
