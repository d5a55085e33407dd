"""A SolaraViz page of the simulated market, for a browser (Mesa's own visualisation).

Start it from the project folder with

    .venv/bin/solara run simulations/app.py

and open the address it prints (http://localhost:8765 by default). Set the levers in the sidebar, press
Reset to build a new market with them, then Step or play to watch the months go by. The sliders are made
from the same parameter specification (`simulations.parameters`) as the notebook dashboard. The sidebar speaks the
language of LOYALTY_LAB_LANGUAGE (simulations.i18n); the charts' legends name the model's measures, as in its data.
"""

from __future__ import annotations

import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter

from simulations import plots, rules
from simulations.i18n import _
from simulations.model import LoyaltyMarket
from simulations.parameters import LEVERS, LEVERS_BY_NAME
from simulations.scenarios import list_scenarios
from simulations.strategy import Strategy

#: Size of the market the page builds; small enough that a step redraws at once.
PAGE_CUSTOMERS = {"value": 1000, "min": 100, "max": 5000, "step": 100}
PAGE_SEED = {"value": 1, "min": 0, "max": 100, "step": 1}


class LoyaltyMarketPage(LoyaltyMarket):
    """`LoyaltyMarket` with every lever as its own keyword, as SolaraViz passes the sidebar's values.

    Args:
        scenario: a market name from `list_scenarios()`.
        n_customers: customers at the start.
        seed: seed of the model's random generators.
        **levers: any strategy lever by name (see `simulations.parameters.LEVERS`); the rest keep their defaults.
    """

    def __init__(self, scenario="telecom", n_customers=PAGE_CUSTOMERS["value"], seed=PAGE_SEED["value"], **kwargs):
        levers = {name: kwargs.pop(name) for name in list(kwargs) if name in LEVERS_BY_NAME}
        super().__init__(scenario=scenario, strategy=Strategy(**levers), n_customers=n_customers, seed=seed, **kwargs)


def lever_param(lever) -> dict:
    """The SolaraViz `model_params` entry of a lever: a float slider, or a select for a choice."""
    if lever.choices:
        return {"type": "Select", "value": lever.default, "values": list(lever.choices), "label": _(lever.label)}
    kind = "SliderInt" if lever.integer else "SliderFloat"
    return {"type": kind, "value": lever.default, "min": lever.min, "max": lever.max, "step": lever.step,
            "label": _(lever.label)}


def model_params() -> dict:
    """Every sidebar control of the page: the scenario, the run size and every lever of the specification."""
    return {
        "scenario": {"type": "Select", "value": "telecom", "values": list_scenarios(), "label": _("scenario")},
        "n_customers": {"type": "SliderInt", "label": _("customers at the start"), **PAGE_CUSTOMERS},
        "seed": {"type": "SliderInt", "label": _("seed"), **PAGE_SEED},
        **{lever.name: lever_param(lever) for lever in LEVERS},
    }


@solara.component
def LadderPanel(model):
    """People on each rung of the loyalty ladder this month (redrawn after every step)."""
    update_counter.get()  # re-render when the model steps
    fig = Figure(figsize=(6, 3.6))
    plots.plot_ladder(model.datacollector.get_model_vars_dataframe(), ax=fig.subplots())
    fig.tight_layout()
    return solara.FigureMatplotlib(fig, format="png")


def components() -> list:
    """The charts of the page: customers, churn by cause, satisfaction and retention, monthly profit, the ladder."""
    churn = {f"churned_{cause}": plots.CAUSE_COLOURS[cause] for cause in rules.CHURN_CAUSES}
    return [
        make_plot_component({"active": "#4a6fa5"}),
        make_plot_component(churn),
        make_plot_component({"mean_satisfaction": "#2ca02c", "retention_12m": "#d62728"}),
        make_plot_component({"profit": "#7f7f7f"}),
        (LadderPanel, 0),
    ]


def _default_values() -> dict:
    return {name: entry["value"] for name, entry in model_params().items()}


#: The market on the page; SolaraViz replaces its value when Reset builds a new one from the sidebar.
market = solara.reactive(LoyaltyMarketPage(**_default_values()))
CHARTS = components()


@solara.component
def Page():
    """SolaraViz's sidebar (controls and parameters), with the charts laid out by this page.

    Mesa 3.3.1 lays charts out in Vuetify 2 tabs (`TabsItems`), which the installed ipyvuetify 3 no longer
    has; so SolaraViz gets no components and the charts are drawn here, from the same reactive model.
    """
    SolaraViz(market, components=[], model_params=model_params(), name=_("Loyalty Lab: the simulated market"))
    with solara.ColumnsResponsive(6, large=4):
        for make_chart, _position in CHARTS:
            with solara.Card():
                make_chart(market.value)


page = Page()
