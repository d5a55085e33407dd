"""Notebook controls for the simulated market (ipywidgets), built from the parameter specification.

    from simulations.widgets import dashboard
    dash = dashboard("telecom", strategy="tiered")
    dash                                   # in a notebook: pickers, sliders, and the panels
    dash.set(service_lead=0.1)             # the same as moving the slider: one re-run, panels redrawn

Every slider is made from an entry of `simulations.parameters` (`LEVERS`, `SCENARIO_SETTINGS`), so its
label, range, step, default and help text are those the model validates against. Sliders report a value
only when it settles (`continuous_update=False`): dragging a slider re-runs the model once, not once per pixel.

Every description, help text, title and message is translated with `_()` (simulations.i18n) when the widget is made,
so a notebook that called `set_language("pl")` gets Polish controls; names passed to `set()` stay English.
"""

from __future__ import annotations

import io
import time
from contextlib import contextmanager

import ipywidgets as widgets
from matplotlib.figure import Figure

from . import plots
from .i18n import N_, _, format_number
from .errors import InvalidParameter, LoyaltyLabError, UnknownField
from .metrics import retention_by_satisfaction
from .model import LoyaltyMarket
from .parameters import LEVERS, LEVERS_BY_NAME, SETTINGS_BY_NAME
from .scenarios import list_scenarios, load_scenario
from .strategy import PRESETS, Strategy

#: Scenario settings the full dashboard offers next to the levers (the rest stay as the scenario file says).
DASHBOARD_SETTINGS = ("competitive_intensity",)
#: Run size controls: name -> (label, min, max, step). Not model settings, so not in the parameter spec.
RUN_CONTROLS = {"n_customers": (N_("customers"), 100, 10_000, 100), "months": (N_("months"), 12, 120, 6)}
SEED_RANGE = (0, 10_000)
SATISFACTION_MONTHS = 12  # the satisfaction-retention panel follows customers over the last year of the run
PNG_DPI = 72  # enough for a notebook; a higher resolution doubles the drawing time
_STYLE = {"description_width": "170px"}
_LAYOUT = widgets.Layout(width="430px")


# ------------------------------------------------------------------ controls from the specification
def parameter_control(parameter, value=None) -> widgets.ValueWidget:
    """A slider (or a dropdown for a parameter with choices) made from a `Parameter` of the spec."""
    value = parameter.default if value is None else value
    common = dict(value=value, description=_(parameter.label), description_allow_html=False, tooltip=_(parameter.help),
                  style=_STYLE, layout=_LAYOUT)
    if parameter.choices:
        return widgets.Dropdown(options=list(parameter.choices), **common)
    slider = widgets.IntSlider if parameter.integer else widgets.FloatSlider
    extra = {} if parameter.integer else {"readout_format": _readout_format(parameter.step)}
    return slider(min=parameter.min, max=parameter.max, step=parameter.step, continuous_update=False, **common, **extra)


def _readout_format(step: float) -> str:
    decimals = max(0, len(f"{step:g}".split(".")[1]) if "." in f"{step:g}" else 0)
    return f".{decimals}f"


def lever_controls(names=None, strategy: Strategy | None = None) -> dict:
    """Controls for the levers `names` (all of `LEVERS` by default), set to `strategy`'s values."""
    strategy = strategy or Strategy()
    names = [lever.name for lever in LEVERS] if names is None else list(names)
    return {name: parameter_control(LEVERS_BY_NAME[name], getattr(strategy, name)) for name in names}


def setting_controls(names, scenario: str) -> dict:
    """Controls for the scenario settings `names`, set to the values of `scenario`."""
    values = load_scenario(scenario)
    return {name: parameter_control(SETTINGS_BY_NAME[name], values[name]) for name in names}


def run_controls(n_customers: int, months: int, seed: int) -> dict:
    """Controls for the size of the run: customers and months (sliders) and the seed (a number box)."""
    controls = {}
    for name, value in (("n_customers", n_customers), ("months", months)):
        label, low, high, step = RUN_CONTROLS[name]
        controls[name] = widgets.IntSlider(value=value, min=low, max=high, step=step, description=_(label),
                                           continuous_update=False, style=_STYLE, layout=_LAYOUT)
    controls["seed"] = widgets.BoundedIntText(value=seed, min=SEED_RANGE[0], max=SEED_RANGE[1], description=_("seed"),
                                              style=_STYLE, layout=_LAYOUT)
    return controls


# ------------------------------------------------------------------ running and drawing
def run_market(scenario="telecom", strategy=None, n_customers=2000, months=36, seed=1, **settings):
    """Run the model; returns (monthly data frame, satisfaction-retention bands or None).

    The bands follow the customers of month `months - 12` through the last year of the run, so the
    run still lasts `months` months in all; runs shorter than 13 months have no bands.
    """
    model = LoyaltyMarket(scenario=scenario, strategy=strategy, n_customers=n_customers, seed=seed, **settings)
    if months <= SATISFACTION_MONTHS:
        model.run(months)
        return model.datacollector.get_model_vars_dataframe(), None
    model.run(months - SATISFACTION_MONTHS)
    bands = retention_by_satisfaction(model, SATISFACTION_MONTHS)
    return model.datacollector.get_model_vars_dataframe(), bands


def draw_dashboard(df, bands) -> Figure:
    """The six dashboard panels: customers, churn by cause, profit by tier, ladder, satisfaction-retention, quadrants."""
    return plots.dashboard_figure(df, bands, fig=Figure(figsize=plots.DASHBOARD_SIZE))


def panel_drawer(*plot_functions, figsize=None):
    """A drawer for a focused widget: one panel per `simulations.plots` function, side by side."""

    def draw(df, bands):
        plots.use_language_fonts()
        fig = Figure(figsize=figsize or plots.panels_figsize(len(plot_functions)))
        for ax, plot in zip(fig.subplots(1, len(plot_functions), squeeze=False)[0], plot_functions):
            plot(df, ax=ax)
        fig.tight_layout()
        return fig

    return draw


def figure_png(fig: Figure, dpi: int = PNG_DPI) -> bytes:
    """The figure as PNG bytes (drawn without pyplot, so nothing piles up in pyplot's figure list)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


# ------------------------------------------------------------------ the explorer widget
class MarketExplorer(widgets.VBox):
    """Controls, the panels and a timing line; re-runs the model once each time a value settles.

    Attributes:
        controls: name -> control widget (levers, scenario settings, run size, pickers).
        runs: how many times the model has been run (tests use it to see exactly one re-run).
        frame, bands: the monthly data and satisfaction bands of the last run.
        figure, png: the last figure and its PNG bytes (what the output area shows).
        timing: label saying how long the last run and drawing took.
        message: label that shows a clear message when a value is not allowed (instead of a traceback).
    """

    def __init__(self, lever_names=None, setting_names=(), draw=draw_dashboard, scenario="telecom", strategy=None,
                 n_customers=2000, months=36, seed=1, pickers=True, title=""):
        strategy = Strategy.coerce(strategy)
        self.scenario_picker = widgets.Dropdown(options=list_scenarios(), value=scenario, description=_("scenario"),
                                                style=_STYLE, layout=_LAYOUT)
        self.preset_picker = widgets.Dropdown(options=["(custom)", *PRESETS], value=_preset_name(strategy),
                                              description=_("strategy preset"), style=_STYLE, layout=_LAYOUT)
        self.controls = {**lever_controls(lever_names, strategy), **setting_controls(setting_names, scenario),
                         **run_controls(n_customers, months, seed)}
        self.fixed_strategy, self.setting_names, self._draw = strategy, tuple(setting_names), draw
        self._naming_preset = False
        self.runs, self._holding, self.frame, self.bands, self.figure, self.png = 0, False, None, None, None, b""
        self.timing, self.message = widgets.Label(), widgets.HTML()
        self.output = widgets.Output()
        super().__init__(self._layout(title, pickers))
        self._observe()
        self.rerun()

    def _layout(self, title, pickers):
        header = [widgets.HTML(f"<b>{_(title)}</b>")] if title else []
        chosen = [self.scenario_picker, self.preset_picker] if pickers else []
        controls = chosen + list(self.controls.values())
        half = (len(controls) + 1) // 2
        columns = widgets.HBox([widgets.VBox(controls[:half]), widgets.VBox(controls[half:])])
        return [*header, columns, self.timing, self.message, self.output]

    def _observe(self):
        for control in self.controls.values():
            control.observe(self._on_value, names="value")
        self.scenario_picker.observe(self._on_scenario, names="value")
        self.preset_picker.observe(self._on_preset, names="value")

    # -------------------------------------------------------------- reacting to the controls
    def _on_value(self, change):
        if self._holding:
            return
        self._naming_preset = True  # only the picker's label follows the levers; it applies nothing
        try:
            self.preset_picker.value = _preset_name(self.strategy())
        finally:
            self._naming_preset = False
        self.rerun()

    def _on_scenario(self, change):
        values = load_scenario(change["new"])
        with self.hold():  # the scenario's own settings replace the old ones; one re-run for all of them
            for name in self.setting_names:
                self.controls[name].value = values[name]

    def _on_preset(self, change):
        if change["new"] in PRESETS and not self._naming_preset:
            preset = Strategy.preset(change["new"])
            with self.hold():
                for name, control in self.controls.items():
                    if name in LEVERS_BY_NAME:
                        control.value = getattr(preset, name)

    @contextmanager
    def hold(self):
        """Change several values, then re-run once at the end (nested holds re-run once, at the outermost)."""
        outer = not self._holding
        self._holding = True
        try:
            yield self
        finally:
            if outer:
                self._holding = False
        if outer:  # not reached after an error: nothing is re-run
            self.rerun()

    def set(self, **values):
        """Set controls by name (levers, settings, 'scenario', 'preset', 'n_customers', 'months', 'seed'); re-runs once.

        Raises:
            UnknownField: a name with no control here. InvalidParameter: a value outside what is allowed.
        """
        controls = {name: self._control_for(name, value) for name, value in values.items()}  # all checked first
        with self.hold():
            for name, value in values.items():
                controls[name].value = value

    def _control_for(self, name, value):
        pickers = {"scenario": self.scenario_picker, "preset": self.preset_picker}
        control = pickers.get(name) or self.controls.get(name)
        if control is None:
            raise UnknownField("dashboard", name, [*pickers, *self.controls])
        spec = LEVERS_BY_NAME.get(name) or SETTINGS_BY_NAME.get(name)
        if spec is not None:
            spec.check(value, "dashboard")
        elif isinstance(control, widgets.Dropdown):
            if value not in control.options:
                raise InvalidParameter("dashboard", name, value, "one of " + ", ".join(control.options))
        elif isinstance(value, bool) or not isinstance(value, int) or not control.min <= value <= control.max:
            raise InvalidParameter("dashboard", name, value, f"a whole number from {control.min} to {control.max}")
        return control

    # -------------------------------------------------------------- the run
    def strategy(self) -> Strategy:
        """The strategy the controls describe (levers without a control keep the starting strategy's values)."""
        levers = {name: c.value for name, c in self.controls.items() if name in LEVERS_BY_NAME}
        return self.fixed_strategy.replace(**levers)

    def rerun(self):
        """Run the model with the current values and redraw; a bad value shows a message, not a traceback."""
        started = time.perf_counter()
        try:
            settings = {name: self.controls[name].value for name in self.setting_names}
            self.frame, self.bands = run_market(self.scenario_picker.value, self.strategy(), self.controls["n_customers"].value,
                                                self.controls["months"].value, self.controls["seed"].value, **settings)
        except LoyaltyLabError as err:
            message = _("Not run: {error}").format(error=_escape(err))
            self.message.value = f"<span style='color:#b00'>{message}</span>"
            return
        self.runs += 1
        ran = time.perf_counter()
        self.figure = self._draw(self.frame, self.bands)
        self.png = figure_png(self.figure)
        self._show()
        drawn = time.perf_counter()
        self.message.value = ""
        self.timing.value = _("run {run}: {simulating} s simulating {customers} customers x {months} months, "
                              "{drawing} s drawing").format(
            run=self.runs, simulating=format_number(ran - started, 2), customers=format_number(self.controls["n_customers"].value),
            months=self.controls["months"].value, drawing=format_number(drawn - ran, 2))

    def static_image(self, dpi: int = plots.FIGURE_DPI):
        """The current panels as an image at print resolution (what a static page shows instead of the widget)."""
        from IPython.display import Image

        png = figure_png(self.figure, dpi)
        if plots.phone_layouts_shown():  # in the book's build: the page also gets the panels laid out for a phone
            png = plots.with_phone_layout(png, plots.phone_png(self.figure, dpi))
        return Image(data=png, format="png")

    def _show(self):
        from IPython import get_ipython
        from IPython.display import Image, display

        if get_ipython() is None:  # plain Python (tests, scripts): nothing to display into
            return
        with self.output:
            self.output.clear_output(wait=True)
            display(Image(data=self.png, format="png"))


def _preset_name(strategy: Strategy) -> str:
    for name in PRESETS:
        if Strategy.preset(name) == strategy:
            return name
    return "(custom)"


def _escape(err) -> str:
    import html

    return html.escape(str(err))


# ------------------------------------------------------------------ the dashboard and focused widgets
TIER_SERVICE_LEVERS = ("service_platinum", "service_gold", "service_iron", "service_lead")
BOND_LEVERS = ("cross_sell", "loyalty_programme", "reward_rate", "social_bond", "customization_bond", "structural_bond")
CARE_LEVERS = ("frontline_care", "feedback_channel", "staying_in_touch")
SATISFACTION_LEVERS = ("product_quality", "frontline_care", "price_index")
LADDER_LEVERS = ("acquisition_budget", "targeting_precision", "frontline_care", "feedback_channel", "staying_in_touch", "cross_sell")


def dashboard(scenario="telecom", strategy=None, n_customers=2000, months=36, seed=1) -> MarketExplorer:
    """The full dashboard: scenario and preset pickers, every lever, competitive intensity, customers and months.

    Args:
        scenario: a market name from `list_scenarios()`.
        strategy: the starting strategy (a Strategy, a preset name, a dict of levers or None for balanced).
        n_customers, months, seed: the size of the run and its seed.
    """
    return MarketExplorer(None, DASHBOARD_SETTINGS, draw_dashboard, scenario, strategy, n_customers, months, seed,
                          title=N_("Loyalty Lab dashboard"))


def tier_service_widget(scenario="telecom", strategy="tiered", n_customers=2000, months=36, seed=1) -> MarketExplorer:
    """Chapter 3: the four tier service levels alone, with profit by tier and customers in each tier."""
    return MarketExplorer(TIER_SERVICE_LEVERS, (), panel_drawer(plots.plot_profit_by_tier, plots.plot_tiers), scenario,
                          strategy, n_customers, months, seed, pickers=False, title=N_("Service by tier"))


def bonds_widget(scenario="retail_bank", strategy=None, n_customers=2000, months=36, seed=1) -> MarketExplorer:
    """Chapter 5: cross-selling, the loyalty programme and the three bonds, with quadrants and churn by cause."""
    return MarketExplorer(BOND_LEVERS, (), panel_drawer(plots.plot_quadrants, plots.plot_churn_by_cause), scenario,
                          strategy, n_customers, months, seed, pickers=False, title=N_("Bonds and rewards"))


def care_widget(scenario="telecom", strategy="neglect", n_customers=2000, months=36, seed=1) -> MarketExplorer:
    """Chapter 6: frontline care, the feedback channel and staying in touch, with churn by cause and customers."""
    return MarketExplorer(CARE_LEVERS, (), panel_drawer(plots.plot_churn_by_cause, plots.plot_customers), scenario,
                          strategy, n_customers, months, seed, pickers=False, title=N_("Customer care"))


def satisfaction_widget(scenario="telecom", strategy=None, n_customers=2000, months=36, seed=1) -> MarketExplorer:
    """Chapter 4: quality, care, price and competitive intensity, with the satisfaction-retention picture and quadrants."""
    return MarketExplorer(SATISFACTION_LEVERS, ("competitive_intensity",), _draw_satisfaction, scenario, strategy,
                          n_customers, months, seed, pickers=False, title=N_("Satisfaction and loyalty"))


def ladder_widget(scenario="telecom", strategy=None, n_customers=2000, months=36, seed=1) -> MarketExplorer:
    """Chapter 2: acquisition, targeting, contact and cross-selling, with the ladder and customers over time."""
    return MarketExplorer(LADDER_LEVERS, (), panel_drawer(plots.plot_ladder, plots.plot_customers), scenario, strategy,
                          n_customers, months, seed, pickers=False, title=N_("The loyalty ladder"))


def _draw_satisfaction(df, bands):
    plots.use_language_fonts()
    fig = Figure(figsize=plots.panels_figsize(2))
    left, right = fig.subplots(1, 2)
    if bands is not None:
        plots.plot_satisfaction_retention(bands, ax=left)
    plots.plot_quadrants(df, ax=right)
    fig.tight_layout()
    return fig
