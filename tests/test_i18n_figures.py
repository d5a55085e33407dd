"""The package's figures, explorables and widgets in Italian, Polish and Chinese (issue 18).

What a reader of a translated page sees that the package or a chapter's code draws (axis labels, legends, tick
names, titles, explorable captions and controls, widget descriptions) must be in the page's language: these tests
fail on a catalog message left empty or fuzzy, on a marked string missing from the catalogs, on an English label
written into a figure without `_()`, on an English text left in a translated figure, and on a Chinese figure drawn
without its glyphs.
"""
from __future__ import annotations

import ast
import re
import string
import warnings

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

from simulations import i18n, plots  # noqa: E402
from simulations.metrics import retention_by_satisfaction  # noqa: E402
from simulations.model import LoyaltyMarket  # noqa: E402
from tools import package_messages  # noqa: E402

LANGUAGES = i18n.TRANSLATIONS


@pytest.fixture(autouse=True)
def back_to_english():
    yield
    i18n.set_language(None)
    plots.use_language_fonts("en")


@pytest.fixture(scope="module")
def market():
    model = LoyaltyMarket("telecom", n_customers=300, seed=3)
    model.run(24)
    bands = retention_by_satisfaction(model, 12)
    return model, model.datacollector.get_model_vars_dataframe(), bands


def _catalog(language):
    with i18n.catalog_path(language).open("rb") as handle:
        return read_po(handle)


# ------------------------------------------------------------------------------------------------ the catalogs
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    messages = [message for message in _catalog(language) if message.id]
    assert len(messages) > 200  # the figures', explorables', widgets' and chapters' labels
    assert [m.id for m in messages if not m.string] == []
    assert [m.id for m in messages if m.fuzzy] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_string_of_the_package_and_the_chapters_is_in_the_catalog(language):
    """The extraction check: a new `_()` label anywhere in the package or a chapter's cells fails here until it is
    translated (run `python tools/package_messages.py extract`, then translate)."""
    assert package_messages.problems(language) == []


def test_the_extraction_sees_the_package_the_chapters_and_the_widgets_levers():
    found = {message.id for message in package_messages.template()}
    assert {"month", "active customers"} <= found                       # simulations/plots.py
    assert "fewer than {count} customers: not drawn" in found            # simulations/explorables.py
    assert "strategy preset" in found                                    # simulations/widgets.py
    assert {"customers after three years", "price war", "Levers you may change:"} <= found  # chapters and labs
    assert "Service level given to Gold customers." in found              # a lever's help text


def _fields(text):
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name)


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder_and_line_break(language):
    for message in _catalog(language):
        if message.id:
            assert _fields(message.string) == _fields(message.id), message.id
            assert message.string.count("\n") == message.id.count("\n"), message.id


LABEL_METHODS = {"set_xlabel": 0, "set_ylabel": 0, "set_title": 0, "suptitle": 0, "text": 2}
LABEL_KEYWORDS = {"label", "title", "description", "xlabel", "ylabel"}


def _english_literals(code: str, where: str):
    """Labels written as plain string literals (with letters) where a figure or widget shows them."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.Call):
            continue
        arguments = []
        if isinstance(node.func, ast.Attribute) and node.func.attr in LABEL_METHODS:
            position = LABEL_METHODS[node.func.attr]
            arguments += node.args[position:position + 1]
        arguments += [keyword.value for keyword in node.keywords if keyword.arg in LABEL_KEYWORDS]
        for argument in arguments:
            candidates = [argument]
            if isinstance(argument, ast.IfExp):
                candidates = [argument.body, argument.orelse]
            for candidate in candidates:
                text = candidate.value if isinstance(candidate, ast.Constant) else None
                if isinstance(candidate, ast.JoinedStr):  # the words an f-string writes itself (its values are checked
                    text = "".join(part.value for part in candidate.values  # where they are made)
                                   if isinstance(part, ast.Constant))
                if isinstance(text, str) and re.search(r"[A-Za-z]", text):
                    found.append(f"{where}:{node.lineno}: {text!r}")
    return found


def test_no_english_label_is_drawn_without_translation_in_the_package():
    found = []
    for name in package_messages.PACKAGE_SOURCES:
        found += _english_literals((package_messages.ROOT / name).read_text(encoding="utf-8"), name)
    assert found == []


def test_no_english_label_is_drawn_without_translation_in_the_chapters():
    found = []
    for pattern in package_messages.BOOK_SOURCES:
        for path in sorted(package_messages.ROOT.glob(pattern)):
            for line, code in package_messages.code_cells(path.read_text(encoding="utf-8")):
                found += _english_literals(code, f"{path.name}:{line}")
    assert found == []


# ------------------------------------------------------------------------------------------------ the figures
def _texts(fig):
    """Every word-bearing text of a figure a reader sees: titles, axis labels, legend entries, category ticks."""
    texts = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            texts += [text.get_text() for text in legend.get_texts()]
        texts += [label.get_text() for label in ax.get_xticklabels() + ax.get_yticklabels()]
        texts += [text.get_text() for text in ax.texts]
    return [text for text in texts if re.search(r"[^\W\d_]", text)]  # words, not numbers


def _figures(market):
    model, df, bands = market
    from matplotlib.figure import Figure

    figures = {"dashboard": plots.dashboard_figure(df, bands, fig=Figure(figsize=plots.DASHBOARD_SIZE))}
    for name, draw in {
        "tiers": lambda ax: plots.plot_tiers(df, ax=ax),
        "whale": lambda ax: plots.plot_whale_curve(model.customer_table()["monthly_profit"], ax=ax),
        "types": lambda ax: plots.plot_loyalty_types(df, ax=ax),
        "motives": lambda ax: plots.plot_loyalty_motives(df, ax=ax),
        "quadrant dots": lambda ax: (plots.plot_satisfaction_loyalty(model.customer_table(), ax=ax), ax.legend()),
        "churn shares": lambda ax: plots.plot_churn_shares(model.summary()["churned"], ax=ax),
    }.items():
        fig = Figure()
        draw(fig.subplots())
        figures[name] = fig
    return figures


def _kept_in_english(language):
    """Messages whose translation is the English word itself (Italian keeps the tier names and 'prospect')."""
    return {message.id for message in _catalog(language) if message.id and message.string == message.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_translated_figure_has_no_label_left_in_english(market, language):
    english = {name: _texts(fig) for name, fig in _figures(market).items()}
    i18n.set_language(language)
    translated = {name: _texts(fig) for name, fig in _figures(market).items()}
    kept = _kept_in_english(language)
    for name in english:
        assert len(english[name]) == len(translated[name]) > 0, name
        left = [text for text, shown in zip(english[name], translated[name]) if text == shown and text not in kept]
        assert left == [], f"{name}: still English in {language}: {left}"


def test_the_english_figures_are_as_they_were(market):
    texts = _texts(_figures(market)["dashboard"])
    assert {"month", "active customers", "customers lost (cumulative)", "Platinum", "first-time", "apostle",
            "competitor's lure"} <= set(texts)


def test_a_chinese_figure_draws_every_glyph_in_a_cjk_font(market):
    import io

    from matplotlib import font_manager

    i18n.set_language("zh_CN")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would fail the -W book build
        figures = _figures(market)
        for fig in figures.values():
            fig.savefig(io.BytesIO(), format="png")
    label = figures["dashboard"].axes[0].xaxis.label
    assert label.get_text() == "月份"
    assert "CJK" in font_manager.findfont(label.get_fontproperties())


def test_without_a_cjk_font_a_chinese_figure_would_warn():
    """The check above can fail: the same label in the default Latin font warns about the missing glyphs."""
    import io

    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    ax.set_xlabel("月份", fontfamily="DejaVu Sans")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    assert any("missing from font" in str(warning.message) for warning in caught)


# ------------------------------------------------------------------------------------------ explorables, widgets
@pytest.fixture(scope="module")
def ch04_by_language():
    from simulations.explorables import compute_explorable

    computed = {}
    for language in ("en", "it", "zh_CN"):
        i18n.set_language(language)
        computed[language] = compute_explorable("ch04", n_customers=120, seeds=(1,))
    i18n.set_language(None)
    return computed


def _spec_texts(computed):
    spec = computed["vega_lite"]
    texts = [" ".join(chart["title"]) for chart in spec["concat"]]
    texts += [param["bind"]["name"].strip() for param in spec["params"]]
    for chart in spec["concat"]:
        for layer in chart["layer"]:
            encoding = layer.get("encoding", {})
            texts += [encoding[axis]["title"] for axis in ("x", "y") if encoding.get(axis, {}).get("title")]
            texts += [value for value in encoding.get("y", {}).get("scale", {}).get("domain", []) if isinstance(value, str)]
    return texts


@pytest.mark.parametrize("language", ("it", "zh_CN"))
def test_an_explorable_in_another_language_carries_translated_labels(ch04_by_language, language):
    english, translated = ch04_by_language["en"], ch04_by_language[language]
    english_texts, translated_texts = _spec_texts(english), _spec_texts(translated)
    assert len(english_texts) == len(translated_texts) > 8
    assert [t for t, s in zip(english_texts, translated_texts) if t == s] == []
    assert translated["title"] != english["title"] and translated["caption"] != english["caption"]
    assert {row["category"] for row in translated["rows"]} & {row["category"] for row in english["rows"]} == set()
    # the data keys and the grid stay what the chart's filters read
    assert [a["name"] for a in translated["axes"]] == [a["name"] for a in english["axes"]]
    assert [{k: v for k, v in row.items() if k != "category"} for row in translated["rows"]] == \
           [{k: v for k, v in row.items() if k != "category"} for row in english["rows"]]


def test_the_explorable_caption_is_italian_with_italian_numbers(ch04_by_language):
    caption = ch04_by_language["it"]["caption"]
    assert caption.startswith("Precalcolato alla compilazione del libro: 21 punti della griglia")
    assert "intensità competitiva (7 valori)" in caption and "mercato «telecomunicazioni»" in caption
    assert "from simulations.widgets import satisfaction_widget" in caption  # code stays code


def test_a_select_names_its_choices_in_the_language_and_keeps_its_values():
    from simulations import explorables

    spec = explorables.explorable_spec("ch08")
    assert "labels" not in explorables._param(spec.axis("preset"))["bind"]  # English as it always was
    i18n.set_language("pl")
    bind = explorables._param(spec.axis("scenario"))["bind"]
    assert bind["options"] == ["telecom", "retail_bank", "coffee_chain", "utility"]
    assert bind["labels"] == ["telekomunikacja", "bank detaliczny", "sieć kawiarni", "dostawca mediów"]
    assert bind["name"] == "rynek "


def test_a_widget_in_polish(monkeypatch):
    from simulations.widgets import tier_service_widget

    i18n.set_language("pl")
    widget = tier_service_widget(n_customers=200, months=13)
    descriptions = {name: control.description for name, control in widget.controls.items()}
    assert descriptions["service_gold"] == "obsługa: Złoty" and descriptions["n_customers"] == "klienci"
    assert widget.controls["service_gold"].tooltip == "Poziom obsługi klientów Złotych."
    assert widget.timing.value.startswith("przebieg 1:") and "200 klientów x 13 miesięcy" in widget.timing.value
    assert "Obsługa według poziomu" in widget.children[0].value
    widget.set(service_lead=0.1)  # names stay English
    assert widget.runs == 2


def test_an_italian_explorable_writes_numbers_with_a_decimal_comma(ch04_by_language):
    assert ch04_by_language["it"]["vega_lite"]["config"]["locale"]["number"]["decimal"] == ","
    assert "locale" not in ch04_by_language["en"]["vega_lite"]["config"]
