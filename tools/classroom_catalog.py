"""Extract the classroom's messages into classroom/locales/classroom.pot and update each language's classroom.po.

    python tools/classroom_catalog.py            # extract, then update it, pl, zh_CN (translations kept)
    python tools/classroom_catalog.py --check    # exit 1 when a catalog misses a message or has a fuzzy/empty one

What is extracted:
- the templates (classroom/templates/*.html: {% trans %} and _()), with Jinja2's own Babel extractor;
- the Python sources of classroom/ (`_()` and `N_()`), with Babel's Python extractor;
- what the pages show from elsewhere: the levers' labels and help (simulations.parameters.LEVERS), what a lever
  allows, and the "allowed" sentences of the store's, the API's and the sign-in's refusals (read from the source,
  their numbers as placeholders, the way classroom.i18n.translate_like looks them up).
A message gone from the source is dropped from the catalogs; a new one arrives untranslated (and the test fails).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classroom.i18n import _template  # noqa: E402
from simulations.i18n import TRANSLATIONS, catalog_path  # noqa: E402

POT = ROOT / "classroom" / "locales" / "classroom.pot"
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
KEYWORDS = {"_": None, "N_": None, "gettext": None}
REFUSALS = {"StoreError": 2, "NotFound": 2, "Conflict": 2, "WrongCode": 2, "AuthError": 2, "error_response": 3}


def refusal_sentences(path: Path) -> list[str]:
    """The `allowed` argument of every refusal raised in `path`, as classroom.i18n looks it up."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in REFUSALS):
            continue
        position = REFUSALS[node.func.id]
        if len(node.args) <= position:
            continue
        argument = node.args[position]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found.append(_lookup_form(argument.value))
        elif isinstance(argument, ast.JoinedStr):  # the computed parts are numbers at run time
            text = "".join(part.value if isinstance(part, ast.Constant) else "0" for part in argument.values)
            found.append(_lookup_form(text))
    return found


def _lookup_form(sentence: str) -> str:
    template, values = _template(sentence)
    return template if values else sentence


def extra_messages() -> list[tuple[str, str]]:
    """(message, where it comes from) for what the pages show from outside classroom/'s own sources."""
    from simulations.parameters import LEVERS

    extra = []
    for lever in LEVERS:
        extra += [(lever.label, "simulations/parameters.py"), (lever.help, "simulations/parameters.py"),
                  (_lookup_form(lever.allowed()), "simulations/parameters.py")]
    for name in ("storage.py", "api.py", "auth.py", "pages.py", "app.py"):
        extra += [(sentence, f"classroom/{name}") for sentence in refusal_sentences(ROOT / "classroom" / name)]
    return extra


def extract() -> Catalog:
    catalog = Catalog(project="Loyalty Lab classroom", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / "classroom", METHODS, OPTIONS, KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        if isinstance(message, str) and message.strip():
            catalog.add(message, locations=[(f"classroom/{filename}", lineno)], auto_comments=comments,
                        context=context)
    for message, where in extra_messages():
        if message.strip():
            catalog.add(message, locations=[(where, 0)])
    for message in catalog:  # the flag Babel guesses from '%' signs: every message is formatted the same way here
        message.flags.discard("python-format")
    return catalog


def update_catalog(template: Catalog, language: str, domain: str = "classroom") -> tuple[Catalog, list[str]]:
    """`language`'s catalog of `domain` with every message of `template`: translations kept, new ones empty, gone
    ones dropped; and the messages still untranslated or fuzzy."""
    path = catalog_path(language, domain)
    old = {}
    if path.exists():
        with path.open("rb") as handle:
            old = {(m.context, m.id): m for m in read_po(handle) if m.id}
    catalog = Catalog(locale=language, project=template.project, charset="utf-8")
    missing = []
    for message in template:
        if not message.id:
            continue
        before = old.get((message.context, message.id))
        if before is None or not before.string or before.fuzzy:
            missing.append(message.id)
        catalog.add(message.id, string=before.string if before else "", locations=message.locations,
                    auto_comments=message.auto_comments, context=message.context,
                    flags=before.flags if before else ())
    return catalog, missing


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        write_po(handle, catalog, width=116, sort_output=False, omit_header=False)
    temporary.replace(path)  # atomic


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report missing, empty or fuzzy messages; write nothing")
    args = parser.parse_args(argv)
    template, problems = extract(), 0
    for language in TRANSLATIONS:
        catalog, missing = update_catalog(template, language)
        problems += len(missing)
        for message in missing if args.check else ():
            print(f"{language}: untranslated: {message!r}")
        if not args.check:
            write(catalog, catalog_path(language, "classroom"))
    if not args.check:
        write(template, POT)
        print(f"{len([m for m in template if m.id])} messages -> {POT.relative_to(ROOT)} and {', '.join(TRANSLATIONS)}")
    return 1 if args.check and problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
