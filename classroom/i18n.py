"""The classroom in the student's language: which language a request gets, and its words (domain `classroom`).

A request's language is its `lang` cookie (set by the language switch on every page, kept per browser), else the
best match of its Accept-Language header (q-values respected), else English. The words come from
classroom/locales/<language>/LC_MESSAGES/classroom.po through `simulations.i18n` (read at run time; a missing or
fuzzy message shows the English).

The pages render in one thread at a time per request but many requests share the Jinja environment, so the
language of the request being answered is held in a context variable that the template's `_()` and `{% trans %}`
read (`use_language`), not in the process-wide `simulations.i18n.set_language`.

Messages the Python code shows (errors' "allowed" sentences, the debrief) are English in the source. Where a
sentence carries numbers or names, its catalog entry is a template with placeholders (`%(round)s`): `translate_like`
turns an English sentence into its template and back, so the store and the game engine keep their English wording.
"""

from __future__ import annotations

import contextlib
import re
from contextvars import ContextVar

from simulations.i18n import LANGUAGES, LanguageError, check_language, format_number, format_percent, gettext

DOMAIN = "classroom"
COOKIE = "lang"
_current: ContextVar[str] = ContextVar("classroom_language", default="en")


def N_(message: str) -> str:
    """Mark an English message for extraction (pybabel) without translating it here: it is translated where shown."""
    return message


# ------------------------------------------------------------------------------------------------ the language
def supported(code: str | None) -> str | None:
    """`code` as one of the course's languages, or None (an unknown or malformed code)."""
    if not code:
        return None
    try:
        return check_language(code)
    except LanguageError:
        return None


def from_accept_language(header: str | None) -> str | None:
    """The course language the browser prefers most (highest q, then order), or None when it asks for none of them."""
    offers = []
    for position, part in enumerate((header or "").split(",")):
        tag, *params = [piece.strip() for piece in part.split(";")]
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        language = None if tag == "*" else supported(tag)
        if language and quality > 0:
            offers.append((-quality, position, language))
    return min(offers)[2] if offers else None


def request_language(request) -> str:
    """The cookie's language, else Accept-Language's best match, else English."""
    return (supported(request.cookies.get(COOKIE)) or from_accept_language(request.headers.get("accept-language"))
            or "en")


@contextlib.contextmanager
def use_language(language: str):
    """Answer in `language` within the block (the templates' and the messages' translations read it)."""
    token = _current.set(language)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> str:
    return _current.get()


# ------------------------------------------------------------------------------------------------ the words
def _(message: str) -> str:
    """`message` in the language of the request being answered."""
    return gettext(message, DOMAIN, language=_current.get())


def ngettext(singular: str, plural: str, count: int) -> str:
    """Jinja's i18n asks for it; the classroom avoids plural forms (the run-time catalogs hold single messages)."""
    return _(singular if count == 1 else plural)


def number(value, digits: int = 0) -> str:
    """A number as the request's language writes it (1,234.5 / 1.234,5 / 1 234,5); '–' for none."""
    if value is None:
        return "–"
    return format_number(value, digits, language=_current.get())


def percent(share, digits: int = 0) -> str:
    """A share (0.253) as the request's language writes a percentage; '–' for none."""
    if share is None:
        return "–"
    return format_percent(share, digits, language=_current.get())


def signed(value, digits: int = 0) -> str:
    """A number with its sign (+12, -3), for NPS."""
    if value is None:
        return "–"
    text = number(abs(value), digits)
    return ("+" if value >= 0 else "-") + text


def plain_number(value) -> str:
    """A lever's level as typed ('%g': 0.5, 1), with the language's decimal sign."""
    from babel.numbers import get_decimal_symbol

    from simulations.i18n import babel_locale

    text = "%g" % value
    return text.replace(".", get_decimal_symbol(babel_locale(_current.get()))) if _current.get() != "en" else text


# ------------------------------------------------------------------------------------------------ English sentences
# A sentence's numbers become placeholders: "a played round, 0 to 3" -> "a played round, %(n1)s to %(n2)s".
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")


def _template(sentence: str) -> tuple[str, dict]:
    values = {}

    def placeholder(match):
        name = f"n{len(values) + 1}"
        values[name] = match.group(0)
        return f"%({name})s"

    return _NUMBER.sub(placeholder, sentence.replace("%", "%%")), values


def translate_like(sentence: str) -> str:
    """An English sentence of the Python code in the request's language: as is when the catalog has it, else by
    its template with the numbers taken out (the numbers written back in the language's way); English otherwise."""
    if not sentence or _current.get() == "en":
        return sentence
    whole = _(sentence)
    if whole != sentence:
        return whole
    template, values = _template(sentence)
    if not values:
        return sentence
    translated = _(template)
    if translated == template:
        return sentence
    shown = {name: _number_text(text) for name, text in values.items()}
    try:
        return translated % shown
    except (KeyError, ValueError, TypeError):  # a broken catalog entry: the English is better than nothing
        return sentence


def _number_text(text: str) -> str:
    plain = text.replace(",", "")
    try:
        value = float(plain)
    except ValueError:
        return text
    digits = len(plain.split(".")[1]) if "." in plain else 0
    return number(value, digits)


def error_message(field, value, allowed) -> str:
    """The translated one-line message of a refusal: 'FIELD: VALUE is not allowed; allowed: ALLOWED'."""
    shown = "" if value is None else f"{value!r}"
    allowed_text = translate_like(str(allowed)) if allowed is not None else ""
    if value is None:
        return _("%(field)s: allowed: %(allowed)s") % {"field": field, "allowed": allowed_text}
    return _("%(field)s: %(value)s is not allowed; allowed: %(allowed)s") % {
        "field": field, "value": shown, "allowed": allowed_text}


def translated_error(err) -> dict:
    """An error's JSON body (`as_dict`) with its `message` in the request's language; the other fields as they are."""
    body = dict(err.as_dict())
    if _current.get() != "en":
        body["message"] = error_message(body.get("field"), body.get("value"), body.get("allowed"))
    return body


# ------------------------------------------------------------------------------------------------ the debrief
# simulations.game._debrief_text writes the debrief in English (it is saved with the round); each of its sentences
# is matched here and written again in the request's language from the numbers and names it holds.
_DEBRIEF = [
    (re.compile(r"Round (?P<round>\d+) of (?P<rounds>\d+) on (?P<market>.+?): (?P<team>.+) ranks (?P<rank>\d+) of "
                r"(?P<teams>\d+) \(score (?P<score>-?[\d.]+)\)\.$"),
     N_("Round %(round)s of %(rounds)s on %(market)s: %(team)s ranks %(rank)s of %(teams)s (score %(score)s).")),
    (re.compile(r"Market share went from (?P<before>-?[\d.]+)% to (?P<after>-?[\d.]+)%; the round's profit was "
                r"(?P<profit>-?[\d,]+) \(cumulative (?P<cumulative>-?[\d,]+)\)\.$"),
     N_("Market share went from %(before)s to %(after)s; the round's profit was %(profit)s "
        "(cumulative %(cumulative)s).")),
    (re.compile(r"This round (?P<team>.+) won (?P<won>[\d,]+) customers from rivals and lost (?P<lost>[\d,]+) to "
                r"them\.$"),
     N_("This round %(team)s won %(won)s customers from rivals and lost %(lost)s to them.")),
    (re.compile(r"Satisfaction is (?P<satisfaction>-?[\d.]+) and 12-month retention (?P<retention>-?[\d.]+)%; "
                r"NPS (?P<nps>[-+]?[\d.]+)\.$"),
     N_("Satisfaction is %(satisfaction)s and 12-month retention %(retention)s; NPS %(nps)s.")),
    (re.compile(r"(?P<team>.+) joined in round (?P<round>\d+) as a newcomer firm with no customers; a team that "
                r"joined late is scored .+\.$"),
     N_("%(team)s joined in round %(round)s as a newcomer firm with no customers; its score takes every team's profit "
        "per round played, so the rounds it missed count neither as losses nor as zero profit.")),
    (re.compile(r"Note: (?P<note>.+)\.$"), N_("Note: %(note)s.")),
]
_PERCENTS = {"before", "after", "retention"}
_NAMES = {"team", "market", "note"}


def debrief_line(line: str) -> str:
    """One sentence of the saved debrief in the request's language (as is in English, or when it is not known)."""
    if _current.get() == "en":
        return line
    for pattern, template in _DEBRIEF:
        found = pattern.match(line)
        if found:
            return _(template) % {name: _debrief_value(name, text) for name, text in found.groupdict().items()}
    return translate_like(line)


# why a team played its last strategy (simulations.game.Game._resolve)
NOTES = [N_("handed in nothing, so played balanced (the default)"),
         N_("handed in nothing, so played its strategy of last round")]
_KEPT = {"balanced (the default)": N_("%(reason)s; played balanced (the default)"),
         "its strategy of last round": N_("%(reason)s; played its strategy of last round")}


def game_note(note: str) -> str:
    """The game engine's note on a team's round in the request's language (its reason translated where known)."""
    whole = translate_like(note)
    if whole != note:
        return whole
    for kept, template in _KEPT.items():
        if note.endswith("; played " + kept):
            return _(template) % {"reason": translate_like(note[:-len("; played " + kept)])}
    return note


def _debrief_value(name: str, text: str) -> str:
    if name == "market":
        return market_name(text)
    if name == "note":
        return game_note(text)
    if name in _NAMES:
        return text
    plain = text.replace(",", "")
    digits = len(plain.split(".")[1]) if "." in plain else 0
    if name in _PERCENTS:
        return percent(float(plain) / 100, max(0, digits))
    if name == "nps":
        return signed(float(plain), digits)
    return number(float(plain), digits)


# ------------------------------------------------------------------------------------------------ names of things
MARKETS = {"telecom": N_("telecom"), "retail_bank": N_("retail bank"), "coffee_chain": N_("coffee chain"),
           "utility": N_("utility")}
PROGRAMMES = {"none": N_("none"), "standalone_points": N_("standalone points"),
              "coalition_points": N_("coalition points"), "cobranded_card": N_("cobranded card"),
              "membership_club": N_("membership club")}


def market_name(name: str) -> str:
    """A market (scenario) name as the page shows it: its translation when the catalog has it."""
    shown = str(name).replace("_", " ")
    return _(MARKETS.get(name, shown))


def choice_name(choice: str) -> str:
    """A lever's choice (a kind of loyalty programme) as the page shows it."""
    return _(PROGRAMMES.get(choice, str(choice).replace("_", " ")))


__all__ = ["COOKIE", "DOMAIN", "LANGUAGES", "N_", "choice_name", "current", "debrief_line", "error_message",
           "from_accept_language", "market_name", "number", "percent", "request_language", "signed",
           "translate_like", "translated_error", "use_language"]
