"""The course's languages: one English source, gettext catalogs beside it.

Every string a reader sees that the package draws (figure labels, legends, table headers, explorable captions,
widgets, challenge texts, grader feedback, quiz banks, the classroom's pages) is English in the source and wrapped
in `_()`; its translations live in `.po` catalogs kept in the repository:

    simulations/locales/<language>/LC_MESSAGES/loyalty_lab.po   figures, tables, explorables, widgets
    exercises/locales/<language>/LC_MESSAGES/exercises.po       challenges, grader feedback
    exercises/locales/<language>/LC_MESSAGES/quizzes.po         the quiz banks, by question id (msgctxt)
    classroom/locales/<language>/LC_MESSAGES/classroom.po       the classroom's templates and messages

The catalogs are read as `.po` files at run time (Babel's reader), so there is no compile step to forget. A message
that is missing, empty or fuzzy in a catalog is shown in English: the tests fail on any of them, so a reader never
meets one in a finished language.

The language comes from `set_language()` or else from the environment variable LOYALTY_LAB_LANGUAGE (the book's
build passes it to the kernels that execute each language's pages); English by default.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

#: The course's languages: code -> the language's own name (what a language switcher shows).
LANGUAGES = {"en": "English", "it": "Italiano", "pl": "Polski", "zh_CN": "简体中文"}
#: The languages translated from English.
TRANSLATIONS = tuple(code for code in LANGUAGES if code != "en")
ENVIRONMENT_VARIABLE = "LOYALTY_LAB_LANGUAGE"

_PACKAGES = Path(__file__).resolve().parent.parent
#: Each message domain and the folder holding its catalogs.
DOMAINS = {
    "loyalty_lab": _PACKAGES / "simulations" / "locales",
    "exercises": _PACKAGES / "exercises" / "locales",
    "quizzes": _PACKAGES / "exercises" / "locales",   # the quiz banks' texts, each in its question id's context
    "classroom": _PACKAGES / "classroom" / "locales",
    "site": _PACKAGES / "book" / "locales",   # the book site's own words: switcher, search box, footer (not shipped)
}

_chosen: str | None = None


class LanguageError(ValueError):
    """An unknown language code, named with the ones allowed."""


def check_language(code: str, field: str = "language") -> str:
    """`code` as one of LANGUAGES (accepting 'zh', 'zh-CN' and 'it-IT'-style spellings), or LanguageError."""
    spelled = str(code).strip().replace("-", "_")
    if spelled in LANGUAGES:
        return spelled
    base = spelled.split("_")[0].lower()
    if base == "zh":
        return "zh_CN"
    if base in LANGUAGES:
        return base
    raise LanguageError(f"{field}: {code!r} is not a language of the course; allowed: {', '.join(LANGUAGES)}")


def set_language(code: str | None) -> None:
    """Use `code` from now on in this process (None: back to the environment's choice or English)."""
    global _chosen
    _chosen = None if code is None else check_language(code)


def get_language() -> str:
    """The language in use: set_language()'s, else LOYALTY_LAB_LANGUAGE's, else English."""
    if _chosen is not None:
        return _chosen
    from_environment = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    return check_language(from_environment, ENVIRONMENT_VARIABLE) if from_environment else "en"


def catalog_path(language: str, domain: str = "loyalty_lab") -> Path:
    return DOMAINS[domain] / language / "LC_MESSAGES" / f"{domain}.po"


@lru_cache(maxsize=None)
def _read_catalog(path: Path, modified: float) -> dict[tuple[str | None, str], str]:
    """(context, English) -> translation, for the finished messages of one .po file (fuzzy and empty ones left out)."""
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {(message.context, message.id): message.string for message in catalog
            if message.id and isinstance(message.id, str) and message.string and not message.fuzzy}


def translations(language: str, domain: str = "loyalty_lab") -> dict[tuple[str | None, str], str]:
    if language == "en":
        return {}
    path = catalog_path(language, domain)
    if not path.exists():
        return {}
    return _read_catalog(path, path.stat().st_mtime)


def gettext(message: str, domain: str = "loyalty_lab", *, context: str | None = None,
            language: str | None = None) -> str:
    """`message` in the language in use (or `language`); English where the catalog has no finished translation."""
    chosen = check_language(language) if language else get_language()
    return translations(chosen, domain).get((context, message), message)


def _(message: str) -> str:
    """The figures' and tables' strings (domain loyalty_lab) in the language in use."""
    return gettext(message)


def pgettext(context: str, message: str, domain: str = "loyalty_lab") -> str:
    """`message` translated within `context` (a quiz question's id, say), for strings that recur with other meanings."""
    return gettext(message, domain, context=context)


def babel_locale(language: str | None = None) -> str:
    """The Babel/CLDR locale for number formats: it, pl, zh_Hans_CN, en."""
    chosen = check_language(language) if language else get_language()
    return {"zh_CN": "zh_Hans_CN", "en": "en"}.get(chosen, chosen)


def format_number(value: float, digits: int = 0, language: str | None = None) -> str:
    """`value` with the language's decimal sign and grouping (1,234.5 / 1.234,5 / 1 234,5)."""
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=babel_locale(language))


def format_percent(share: float, digits: int = 0, language: str | None = None) -> str:
    """A share (0.253) as the language writes a percentage (25%, 25 %, 25%)."""
    from babel.numbers import format_percent as babel_percent

    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return babel_percent(share, format=pattern, locale=babel_locale(language))
