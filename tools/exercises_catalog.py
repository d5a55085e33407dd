"""Extract the challenges' texts and the grader's feedback into exercises/locales/exercises.pot and update each
language's exercises.po (translations kept, new messages empty, gone ones dropped).

    python tools/exercises_catalog.py            # extract, then update it, pl, zh_CN
    python tools/exercises_catalog.py --check    # exit 1 when a catalog misses a message or has a fuzzy/empty one

What is extracted:
- exercises/challenges.py's `_t()` and `N_()` messages (feedback sentences, verdicts, labels), with Babel;
- the outcome names the feedback uses (METRIC_LABELS, and simulations.plots.CAUSE_LABELS for churn causes);
- each challenge's title, teaches, goal description and hints (exercises/challenges/*.yaml), in the context of the
  challenge's id, so the same English in two challenges can be translated apart and ids are never translated.
The quiz banks have their own catalog (quizzes.po, tools/book_site.py extract).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from classroom_catalog import update_catalog, write  # noqa: E402
from simulations.i18n import TRANSLATIONS, catalog_path  # noqa: E402

POT = ROOT / "exercises" / "locales" / "exercises.pot"
KEYWORDS = {"_t": None, "N_": None}


def extract() -> Catalog:
    from exercises import list_challenges
    from exercises.challenges import METRIC_LABELS, load_challenge
    from simulations.plots import CAUSE_LABELS

    catalog = Catalog(project="Loyalty Lab exercises", charset="utf-8")
    source = ROOT / "exercises" / "challenges.py"
    for lineno, message, comments, context in extract_from_file("python", source, KEYWORDS):
        if isinstance(message, str) and message.strip():
            catalog.add(message, locations=[("exercises/challenges.py", lineno)], context=context)
    for label in list(METRIC_LABELS.values()) + list(CAUSE_LABELS.values()):
        catalog.add(label, locations=[("exercises/challenges.py", 0)])
    from exercises.quizzes import WIDGET_WORDS

    for word in WIDGET_WORDS:  # jupyterquiz's own words, replaced in its script
        catalog.add(word, locations=[("exercises/quizzes.py", 0)])
    for challenge_id in list_challenges():
        challenge = load_challenge(challenge_id)
        where = [(f"exercises/challenges/{challenge_id}.yaml", 0)]
        for text in [challenge["title"], challenge["teaches"], challenge["goal"]["description"], *challenge["hints"]]:
            catalog.add(text, locations=where, context=challenge["id"])
    for message in catalog:
        message.flags.discard("python-format")
    return catalog


def main(argv=None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    template, problems = extract(), 0
    for language in TRANSLATIONS:
        catalog, missing = update_catalog(template, language, "exercises")
        problems += len(missing)
        for message in missing if check else ():
            print(f"{language}: untranslated: {message!r}")
        if not check:
            write(catalog, catalog_path(language, "exercises"))
    if not check:
        write(template, POT)
        print(f"{len([m for m in template if m.id])} messages -> {POT.relative_to(ROOT)} and {', '.join(TRANSLATIONS)}")
    return 1 if check and problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
