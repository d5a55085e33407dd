"""Team names a room can read and tell apart: normalized, checked, and compared by how they look.

A name is shown as typed after NFKC normalization (full-width "Ｌｏｗｅｒ" becomes "Lower") with runs of spaces
made one. It is refused, with the reason, when it holds an invisible or direction-changing character (zero-width
spaces, right-to-left overrides), a control character, no letter or digit at all, letters of two look-alike
alphabets at once (a Cyrillic "о" inside a Latin word), or more than MAX_NAME characters. Two names clash when
their *skeletons* are equal: NFKC, case-folded, spaces collapsed, and Cyrillic and Greek letters that look like
Latin ones read as those (a small subset of Unicode's confusables table, UTS #39, for the letters that matter).
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 30  # characters: a projector row at 1280x720 stays readable (longer names are cut there with "…")
REFUSED_CATEGORIES = {"Cc": "a control character", "Cf": "an invisible or direction-changing character",
                      "Co": "a private-use character", "Cn": "an unassigned character", "Cs": "a lone surrogate",
                      "Zl": "a line break", "Zp": "a paragraph break"}
LOOK_ALIKE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
# lower-case (case-folded) Cyrillic and Greek letters, and digits, read as the Latin letter they look like
CONFUSABLE = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "ӏ": "l",
    "ɡ": "g", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "m", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ζ": "z", "0": "o", "1": "l",
})


class BadName(ValueError):
    """Why a team name is refused, in words (the API's `allowed`)."""


def normalized(name) -> str:
    """The name as shown: NFKC, trimmed, runs of white space made one space. Raises BadName saying why it cannot be."""
    if not isinstance(name, str):
        raise BadName(f"a name of text, 1 to {MAX_NAME} characters")
    composed = unicodedata.normalize("NFKC", name)
    for character in composed:
        category = unicodedata.category(character)
        if category in REFUSED_CATEGORIES:
            raise BadName(f"a name without {REFUSED_CATEGORIES[category]} (U+{ord(character):04X})")
    shown = re.sub(r"\s+", " ", composed).strip()
    if not shown or not any(unicodedata.category(c)[0] in "LN" for c in shown):
        raise BadName("a name with at least one letter or digit")
    if len(shown) > MAX_NAME:
        raise BadName(f"a name of at most {MAX_NAME} characters (this one has {len(shown)})")
    scripts = {script for c in shown if c.isalpha() for script in LOOK_ALIKE_SCRIPTS
               if unicodedata.name(c, "").startswith(script)}
    if len(scripts) > 1:
        raise BadName("letters of one alphabet only (" + " and ".join(sorted(s.title() for s in scripts))
                      + " letters that look alike are mixed here)")
    return shown


def skeleton(shown: str) -> str:
    """What a normalized name looks like: two names with the same skeleton would be mistaken for each other."""
    return shown.casefold().translate(CONFUSABLE)

