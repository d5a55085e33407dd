"""What the book's code cells show besides figures, in each language: tables (`localised`) and glued phrases.

A chapter computes with English names; `localised` translates a table only for display, and leaves English pages
exactly as computed.
"""
from __future__ import annotations

import datetime
import re

import pandas as pd
import pytest

from simulations import display, i18n
from tools import package_messages

EXPECTED = {  # a header, a market code name, a preset and a phrase, as each language's catalog words them
    "it": ("tasso di premio", "banca retail", "equilibrata", "in tre dei quattro mercati", "25 marzo 1997", "0,05"),
    "pl": ("stopa nagród", "bank detaliczny", "zrównoważona", "na trzech z czterech rynków", "25 marca 1997", "0,05"),
    "zh_CN": ("奖励比例", "零售银行", "均衡", "在四个市场中的三个", "1997年3月25日", "0.05"),
}


@pytest.fixture(autouse=True)
def back_to_english():
    yield
    i18n.set_language(None)


def programme_table() -> pd.DataFrame:
    rows = [{"market": "retail_bank", "strategy": "balanced", "reward rate": 0.05, "extra profit": 1234},
            {"market": "coffee_chain", "strategy": "neglect", "reward rate": 0.08, "extra profit": -56}]
    return pd.DataFrame(rows).set_index("market")


def test_in_english_a_table_is_shown_exactly_as_computed():
    table = programme_table()
    assert display.localised(table) is table
    assert display.word("frontline_care") == "frontline_care" and display.word(0.25) == 0.25
    assert display.in_markets(3) == "in three of the four markets"
    assert display.format_date(datetime.date(1997, 3, 5)) == "05 March 1997"  # as the chapter's strftime wrote it


@pytest.mark.parametrize("language", i18n.TRANSLATIONS)
def test_a_table_is_translated_for_display_and_its_computation_is_not(language):
    header, market, preset, phrase, date, decimal = EXPECTED[language]
    table = programme_table()
    i18n.set_language(language)
    shown = display.localised(table)
    assert header in shown.columns and "reward rate" not in shown.columns
    assert market in shown.index and shown.index.name == i18n._("market")
    assert preset in set(shown[i18n._("strategy")])
    assert decimal in set(shown[header])
    assert list(table.columns) == ["strategy", "reward rate", "extra profit"]  # the computed table is untouched
    assert display.in_markets(3) == phrase
    assert display.format_date(pd.Timestamp("1997-03-25")) == date


@pytest.mark.parametrize("language", i18n.TRANSLATIONS)
def test_a_series_and_a_dict_are_translated_too(language):
    i18n.set_language(language)
    series = display.localised(pd.Series({"platinum": 3, "lead": 1}, name="customers").rename_axis("tier"))
    assert series.name == i18n._("customers") != "customers" and series.index.name == i18n._("tier") != "tier"
    assert "platinum" not in series.index
    found = display.localised({"reward rate": 0.04, "extra profit": -16758})
    assert set(found) == {i18n._("reward rate"), i18n._("extra profit")} and "reward rate" not in found


@pytest.mark.parametrize("language", i18n.TRANSLATIONS)
def test_every_phrase_for_the_markets_is_translated_and_distinct(language):
    i18n.set_language(language)
    phrases = [display.in_markets(count) for count in range(5)]
    assert len(set(phrases)) == 5
    assert not set(phrases) & set(display.IN_MARKETS.values())


def test_every_table_word_and_phrase_is_in_the_catalogs():
    """display.py's marked words are extracted (a word added without `tools/package_messages.py extract` fails)."""
    extracted = {message.id for message in package_messages.template() if message.id}
    assert set(display.TABLE_WORDS) | set(display.IN_MARKETS.values()) <= extracted


@pytest.mark.parametrize("language", i18n.TRANSLATIONS)
def test_the_translated_phrases_keep_their_placeholders(language):
    """A glued phrase or printed line with {count}, {share}... keeps exactly those names in every language."""
    names = re.compile(r"\{(\w*)\}")
    wrong = [(english, translated) for (_context, english), translated in i18n.translations(language).items()
             if sorted(names.findall(english)) != sorted(names.findall(translated))]
    assert not wrong
