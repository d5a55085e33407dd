"""The model reference appendix describes the model under ODD's headings, and cannot drift from the code.

The page generates its state variables (from `model.People`), its schedule (from the source of
`LoyaltyMarket.step` and `live_month`), its submodels (from `simulations.rules`) and its settings and levers
(from `simulations.parameters`) at build time. These tests execute the page's own code (read with jupytext,
run in a fresh kernel) and check, independently of how the page does it, that every rule, state variable,
setting, lever and scheduled method is on it; that its prose names only things that exist; and that the
built HTML page carries the rules too (with the one shared book build).
"""

from __future__ import annotations

import dataclasses
import html
import inspect
import re

import mesa
import pytest

from conftest import BOOK_GROUP, ROOT
from simulations import calibration, firms, metrics, parameters, population, rules, sensitivity
from simulations.agents import Customer
from simulations.model import LoyaltyMarket
from simulations.population import People

PAGE = ROOT / "book" / "appendix" / "model_reference.md"
ODD_HEADINGS = ("Purpose and patterns", "Entities, state variables, and scales", "Process overview and scheduling",
                "Design concepts", "Initialization", "Input data", "Submodels")
NETLOGO_HEADINGS = ("Things to notice", "Things to try")  # kept after ODD's seven, where they help a learner
DESIGN_CONCEPTS = ("Basic principles", "Emergence", "Adaptation", "Objectives", "Learning", "Prediction", "Sensing",
                   "Interaction", "Stochasticity", "Collectives", "Observation")  # Grimm et al. 2020, table 1
QUERIES = {"active_mask", "active_by_firm"}  # methods `step` calls only to read the state


def public_rules():
    return sorted(name for name, f in inspect.getmembers(rules, inspect.isfunction)
                  if f.__module__ == rules.__name__ and not name.startswith("_"))


def state_variables():
    return [f.name for f in dataclasses.fields(People)]


def methods_called_by_step():
    """The model's own methods and the firms' books' methods that `step` calls, e.g. `_acquire`, `ledger.close_month`."""
    source = inspect.getsource(LoyaltyMarket.step)
    own = {name for name in re.findall(r"self\.(\w+)\(", source)
           if callable(getattr(LoyaltyMarket, name, None)) and name not in QUERIES}
    books = {f"ledger.{name}" for name in re.findall(r"self\.ledger\.(\w+)\(", source)}
    return sorted(own | books)


def rules_applied_in_a_month():
    """Every rule named in the source of live_month and the helpers it calls for churn, money and switching."""
    methods = (LoyaltyMarket.live_month, LoyaltyMarket.churn_hazards, LoyaltyMarket._account,
               LoyaltyMarket._update_switching, LoyaltyMarket._leave)
    return sorted({name for m in methods for name in re.findall(r"rules\.(\w+)\(", inspect.getsource(m))} - {"clip01"})


def table_rows(text: str) -> dict[str, list[str]]:
    """Markdown table rows whose first cell is a `name`, as {name: [other cells]}."""
    rows = {}
    for line in text.splitlines():
        match = re.match(r"^\| `(\w+)` \| (.*) \|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split(" | ")]
    return rows


def prose(text: str) -> str:
    """The page's Markdown without its code cells, fenced code blocks, or front matter."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"\{[\w:-]+\}`[^`]*`", "", text)  # roles: {cite:p}`key`, {doc}`trust`, {term}`...`


@pytest.fixture(scope="module")
def executed_page_text() -> str:
    """Every text and markdown output of the page, after running it in a fresh kernel from its own folder."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(PAGE)
    NotebookClient(notebook, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(PAGE.parent)}}).execute()
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts += [data.get("text/markdown", ""), data.get("text/plain", ""), output.get("text", "")]
    return "\n".join(texts)


def test_there_are_rules_and_state_to_document():
    assert len(public_rules()) >= 20
    assert len(state_variables()) >= 20
    assert {"live_month", "_word_of_mouth", "_acquire", "_move_on", "_review_tiers"} <= set(methods_called_by_step())


def test_page_has_the_odd_headings_in_order_then_things_to_notice_and_try():
    headings = re.findall(r"^## (.+)$", prose(PAGE.read_text(encoding="utf-8")), re.M)
    odd = [h for h in headings if h in ODD_HEADINGS]
    assert odd == list(ODD_HEADINGS)
    for heading in NETLOGO_HEADINGS:
        assert heading in headings and headings.index(heading) > headings.index("Submodels"), heading


def test_design_concepts_are_each_addressed():
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## Design concepts", 1)[1].split("\n## ", 1)[0]
    missing = [c for c in DESIGN_CONCEPTS if f"**{c}.**" not in section]
    assert not missing, f"design concepts not addressed: {missing}"


def test_page_generates_its_entries_from_the_code_not_by_hand():
    text = PAGE.read_text(encoding="utf-8")
    for generator in ("inspect.getmembers(rules", "inspect.signature", "dataclasses.fields(People)",
                      "parameters.SCENARIO_SETTINGS", "parameters.LEVERS", "LoyaltyMarket.step",
                      "LoyaltyMarket.live_month"):
        assert generator in text, f"the page no longer generates from {generator}"
    # an entry is a bold or heading signature; mentioning a rule in prose (`market_openness`) is fine
    hand_written = [name for name in public_rules() if re.search(rf"(\*\*`|^#+ `){name}\(", text, re.M)]
    assert not hand_written, f"entries written by hand can drift: {hand_written}"


def test_prose_names_only_things_that_exist():
    """A backticked name in the text must be a rule, a state variable, a setting, a lever, a method or a module.

    This is what stops the page from describing a rule the model no longer has.
    """
    known = (set(dir(rules)) | set(state_variables()) | set(parameters.LEVERS_BY_NAME) | set(parameters.SETTINGS_BY_NAME)
             | set(dir(LoyaltyMarket)) | set(dir(Customer)) | set(dir(metrics)) | set(dir(calibration))
             | set(dir(sensitivity)) | set(dir(population)) | set(dir(firms)) | set(dir(firms.Firms))
             | set(dir(firms.Ledger)) | {"engine", "n_customers", "seed", "firms", "strategy"})
    known |= {"telecom", "utility", "retail_bank", "coffee_chain", "balanced", "tiered", "bonding", "neglect"}
    known |= set(dir(mesa.agent.AgentSet)) | {"lifetimes", "mesa", "simulations"}
    names = re.findall(r"`([a-z_][a-z0-9_]*)`", prose(PAGE.read_text(encoding="utf-8")))
    unknown = sorted({n for n in names if n not in known})
    assert not unknown, f"the page names things the code does not have: {unknown}"


@pytest.mark.parametrize("name", public_rules())
def test_every_public_rule_is_documented_with_signature_and_docstring(executed_page_text, name):
    function = getattr(rules, name)
    signature = f"{name}{inspect.signature(function)}"
    assert signature in executed_page_text, f"{signature} is not on the model reference page"
    summary = inspect.getdoc(function).splitlines()[0].strip()
    assert summary in executed_page_text, f"the docstring of {name} is not on the page"


@pytest.mark.parametrize("name", state_variables())
def test_every_state_variable_is_described(executed_page_text, name):
    row = table_rows(executed_page_text).get(name)
    assert row is not None, f"state variable {name} (a field of model.People) is not in the page's table"
    assert len(row) == 2 and len(row[1]) > 20, f"state variable {name} has no real description: {row}"


@pytest.mark.parametrize("setting", parameters.SCENARIO_SETTINGS, ids=lambda s: s.name)
def test_every_scenario_setting_is_listed_with_its_help(executed_page_text, setting):
    row = table_rows(executed_page_text).get(setting.name)
    assert row is not None and row[0] == setting.help, f"setting {setting.name} is missing or has other text: {row}"


@pytest.mark.parametrize("lever", parameters.LEVERS, ids=lambda p: p.name)
def test_every_lever_is_listed_with_its_help(executed_page_text, lever):
    row = table_rows(executed_page_text).get(lever.name)
    assert row is not None and row[-1] == lever.help, f"lever {lever.name} is missing or has other text: {row}"


def test_the_schedule_lists_every_step_of_the_month(executed_page_text):
    missing = [name for name in methods_called_by_step() if f"`{name}`" not in executed_page_text]
    assert not missing, f"methods LoyaltyMarket.step calls that the schedule leaves out: {missing}"


def test_the_schedule_lists_every_rule_applied_in_a_month(executed_page_text):
    chain = next(line for line in executed_page_text.splitlines() if "&rarr;" in line)
    missing = [name for name in rules_applied_in_a_month() if f"`{name}`" not in chain]
    assert not missing, f"rules live_month applies that the schedule leaves out: {missing}"
    order = [chain.index(f"`{name}`") for name in ("perceived_quality", "transaction_satisfaction", "choose_cause")]
    assert order == sorted(order), "the rules are not in the order a month applies them"


@pytest.mark.slow
@pytest.mark.xdist_group(BOOK_GROUP)
def test_every_rule_and_state_variable_is_in_the_built_page(built_book):
    built = built_book.html / "book" / "appendix" / "model_reference.html"
    assert built.exists(), "the model reference page was not built"
    page = html.unescape(re.sub(r"<[^>]+>", "", built.read_text(encoding="utf-8")))
    missing = [name for name in public_rules() if f"{name}(" not in page]
    assert not missing, f"rules missing from the built model reference: {missing}"
    missing = [name for name in state_variables() if name not in page]
    assert not missing, f"state variables missing from the built model reference: {missing}"
