"""What the book's code cells show a reader besides figures: tables and phrases, in the language in use.

A chapter computes with English column names and code names (`retail_bank`, `retention_12m`), and its checks and
glued numbers read those. Only when a table is shown does `localised()` put its headers, index labels and word cells
into the page's language; in English it returns the table exactly as computed, so the English pages do not change.
The words are looked up, in order, among the package's own names (markets, presets, programmes, tiers, ladder stages,
churn causes, levers) and then in TABLE_WORDS, the headers and labels the book's tables use; a word found nowhere is
shown as it is (and the translated builds' prose check, tests/test_translations.py, fails on it).

Phrases glued into translated sentences (`in_markets`) are whole messages, so each language words them to fit.
"""
from __future__ import annotations

import datetime as _datetime
import numbers

from . import plots
from .i18n import N_, _, format_number, get_language
from .parameters import LEVERS_BY_NAME

#: The headers, index labels and cell words of the book's tables (English as the chapters compute them).
TABLE_WORDS = (
    # columns of the model's summaries and monthly records
    N_("retention_12m"), N_("market_share"), N_("mean_satisfaction"), N_("share_apostle"), N_("share_hostage"),
    N_("mean_switching_cost"), N_("lost_to_rivals_per_customer"), N_("satisfaction"), N_("switching"),
    N_("profit"), N_("revenue"), N_("cost"), N_("expectation"), N_("monthly_profit"), N_("products"), N_("tenure"),
    N_("switching_cost"), N_("stage"), N_("tier"), N_("nps"), N_("lead_customers"), N_("lead_profit"),
    N_("total_profit"), N_("lost_to_indifference"), N_("customers"), N_("orders"), N_("mean_revenue"),
    N_("mean_orders"), N_("share_of_customers_%"), N_("share_of_revenue_%"), N_("margin"), N_("order_cost"),
    # pandas' describe()
    N_("count"), N_("mean"), N_("std"), N_("min"), N_("max"),
    # chapter 1
    N_("monthly retention"), N_("customers kept after a year"), N_("lifetime value of a customer earning 10 a month"),
    N_("market"), N_("competitive intensity"), N_("description"), N_("strategy"), N_("what the firm does"),
    N_("months"), N_("active"), N_("profit (thousands)"), N_("lost to indifference"),
    # chapter 2
    N_("option"), N_("client + advocate"), N_("advocate"),
    # chapter 3
    N_("Iron or Lead?"), N_("Iron (assumed costs)"), N_("Lead (assumed costs)"),
    # chapter 4
    N_("firm"), N_("NPS"), N_("mean satisfaction"), N_("12-month retention"), N_("share of wallet"),
    N_("customers left"), N_("profit over 3 years"), N_("utility, neglect"), N_("telecom, balanced"),
    N_("coffee chain, balanced"), N_("bank, bonding"), N_("2: dissatisfied, likely to leave"),
    N_("4: dissatisfied, yet loyal"), N_("5: satisfied, not loyal"), N_("7: satisfied, very low loyalty"),
    N_("neglectful utility"), N_("coffee chain, aggressive rival"),
    N_("retention gap, completely satisfied minus dissatisfied"),
    # chapter 5
    N_("tie of a points balance"), N_("value of a unit of reward"), N_("running cost per member"),
    N_("social bond built"), N_("programme"), N_("reward rate"), N_("social 0.8"), N_("customization 0.8"),
    N_("structural 0.8"), N_("incentive-loyal share"), N_("extra cost"), N_("extra profit"),
    # chapter 6
    N_("scenario"), N_("indifference, neglect (%)"), N_("largest cause, neglect"), N_("indifference, balanced (%)"),
    N_("largest cause, balanced"), N_("monthly margin"), N_("lifetime value (lost if not replaced)"),
    N_("net loss if replaced (CLV - replacement's CLV + acquisition)"),
    # chapter 7
    N_("from \\ to"), N_("care"), N_("game"), N_("team"), N_("unanswered cut"), N_("peace"), N_("red"), N_("blue"),
    N_("neglect + full feedback channel"), N_("neglect + care and contact restored"), N_("rival's price"), N_("care's share"), N_("rival's share"), N_("care's profit"), N_("rival's profit"),
    N_("bonding preset"), N_("cross-selling at 0.3"),
    # chapter 8
    N_("spread of spend"), N_("contract lock-in"), N_("products on offer"), N_("share of wallet floor"),
    N_("profit from top 20% (%)"), N_("lever"), N_("at 0.5"), N_("at 1.0"), N_("service level (per tier)"),
    N_("frontline care"), N_("feedback channel"), N_("staying in touch"), N_("cross-selling effort"),
    N_("each bond (social, customization, structural)"), N_("product quality (% of revenue)"), N_("design"),
    N_("bank design"), N_("coffee design"), N_("retention (%)"),
)

#: The package's code names and the English words the figures already give them (translated there too).
_NAMED = (plots.MARKET_LABELS, plots.PRESET_LABELS, plots.PROGRAMME_LABELS, plots.STAGE_LABELS, plots.TIER_LABELS,
          plots.CAUSE_LABELS)


def word(value, digits: int | None = None):
    """A header, label or cell of a table in the language in use: words translated, numbers in the language's
    notation (with `digits` decimals, or the ones they have); unknown words as they are. English: `value` itself."""
    if isinstance(value, bool) or value is None or get_language() == "en":
        return value
    if isinstance(value, numbers.Number):
        if value != value:  # NaN stays NaN
            return value
        if digits is not None and not isinstance(value, numbers.Integral):
            return format_number(value, digits)
        return number_as_written(value)
    if not isinstance(value, str):
        return value
    for names in _NAMED:
        if value in names:
            return _(names[value])
    if value in LEVERS_BY_NAME:
        return _(LEVERS_BY_NAME[value].label)
    return _(value)


def localised(shown, digits: int | None = None):
    """A DataFrame, Series or dict as a reader sees it: headers, index labels (every level), their names and cells in
    the language in use, numbers written as the language writes them (with `digits` decimals if given). English:
    `shown` itself, unchanged."""
    import pandas as pd

    if get_language() == "en":
        return shown
    if isinstance(shown, dict):
        return {word(key): word(value, digits) for key, value in shown.items()}

    def cell(value):
        return word(value, digits)

    if isinstance(shown, pd.Series):
        result = shown.rename(index=word).rename(word(shown.name)).map(cell)
        result.index = result.index.set_names([word(name) for name in result.index.names])
        return result
    result = shown.rename(index=word, columns=word).map(cell)
    result.index = result.index.set_names([word(name) for name in result.index.names])
    result.columns = result.columns.set_names([word(name) for name in result.columns.names])
    return result


# ------------------------------------------------------------------------------------------------ phrases
IN_MARKETS = {0: N_("in none of the markets"), 1: N_("in one of the four markets"),
              2: N_("in two of the four markets"), 3: N_("in three of the four markets"),
              4: N_("in all four markets")}


def in_markets(count) -> str:
    """'in none of the markets', 'in one of the four markets', ... 'in all four markets', in the language in use."""
    return _(IN_MARKETS[int(count)])


def format_date(day, language: str | None = None) -> str:
    """A calendar date as the language writes it in prose: 25 March 1997, 25 marzo 1997, 1997年3月25日."""
    from babel.dates import format_date as babel_date

    from .i18n import babel_locale, check_language

    chosen = check_language(language) if language else get_language()
    if isinstance(day, _datetime.datetime):
        day = day.date()
    if chosen == "en":
        return day.strftime("%d %B %Y")
    return babel_date(day, format="long", locale=babel_locale(chosen))


def number_as_written(value, language: str | None = None) -> str:
    """A number with only the decimals it has (6, 0.15), in the language's notation (0,15)."""
    from babel.numbers import format_decimal

    from .i18n import babel_locale

    return format_decimal(value, locale=babel_locale(language))


#: Words the book's cells pass to `_()` by variable, marked here so the catalogs hold them.
CELL_WORDS = (N_("log"), N_("linear"), N_("yes"), N_("no"))
