"""The package's reader-facing messages (figures, tables, explorables, widgets): extract, update, check.

    python tools/package_messages.py extract   English messages -> simulations/locales/loyalty_lab.pot, and each
                                               language's loyalty_lab.po updated (new messages empty, translations kept,
                                               messages no longer in the source dropped)
    python tools/package_messages.py check     exit 1, naming each message that is missing, empty or fuzzy
    python tools/package_messages.py stats     messages, translated, fuzzy, empty per language

The messages are the strings in `_()`, `N_()` and `pgettext()` calls of the package's drawing modules and of the
book's code cells (chapters and labs), the labels and help texts of the levers and settings the widgets show, and
the loyalty types' names that the figures look up with a context. The book's prose has its own catalogs
(tools/book_site.py); the command line stays English.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from simulations.i18n import TRANSLATIONS, catalog_path  # noqa: E402
from translate import drop_false_format_flags  # noqa: E402  (tools/translate.py)

DOMAIN = "loyalty_lab"
TEMPLATE = ROOT / "simulations" / "locales" / f"{DOMAIN}.pot"
#: The package's modules whose `_()` strings a reader sees (the command line's modules print English on purpose).
PACKAGE_SOURCES = ("simulations/plots.py", "simulations/explorables.py", "simulations/widgets.py", "simulations/display.py",
                   "simulations/calibration.py", "simulations/app.py")
BOOK_SOURCES = ("book/ch0*.md", "book/labs/*.md", "book/appendix/trust.md")
KEYWORDS = {"_": None, "N_": None, "pgettext": ((1, "c"), 2)}
#: Widget settings beside the levers (widgets.DASHBOARD_SETTINGS and the satisfaction widget's).
WIDGET_SETTINGS = ("competitive_intensity",)


def code_cells(markdown: str):
    """(first line number, code) of each MyST code cell, without its options (`:tags:` lines or a `---` block)."""
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("```{code-cell}"):
            index += 1
            continue
        start = index + 1
        end = start
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        body = lines[start:end]
        skip = 0
        if body and body[0].strip() == "---":
            skip = next((i for i in range(1, len(body)) if body[i].strip() == "---"), 0) + 1
        else:
            while skip < len(body) and body[skip].startswith(":"):
                skip += 1
        yield start + skip + 1, "\n".join(body[skip:])
        index = end + 1


def _python_messages(code: str, path: str, first_line: int = 1):
    for line, message, _comments, context in extract("python", io.BytesIO(code.encode("utf-8")), keywords=KEYWORDS,
                                                     comment_tags=(), options={}):
        if isinstance(message, tuple):  # pgettext's (context, message) comes back as the message
            message = message[-1]
        if message:
            yield message, context, (path, first_line + line - 1)


def source_messages():
    """(message, context, (file, line)) of every marked string in the package's drawing modules and the book's cells."""
    for name in PACKAGE_SOURCES:
        yield from _python_messages((ROOT / name).read_text(encoding="utf-8"), name)
    for pattern in BOOK_SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            relative = str(path.relative_to(ROOT))
            for first_line, code in code_cells(path.read_text(encoding="utf-8")):
                yield from _python_messages(code, relative, first_line)


def generated_messages():
    """Messages the code looks up from data, not literals: lever labels and help texts, loyalty types with context,
    the markets' and presets' descriptions (chapter 1's tables) and the calibrated settings' help (the trust page)."""
    from simulations import list_scenarios, load_scenario, plots
    from simulations.calibration import CALIBRATED_SETTINGS
    from simulations.parameters import LEVERS, SETTINGS_BY_NAME
    from simulations.strategy import PRESET_DESCRIPTIONS

    for parameter in (*LEVERS, *(SETTINGS_BY_NAME[name] for name in WIDGET_SETTINGS)):
        yield parameter.label, None, ("simulations/parameters.py", 0)
        if parameter.help:
            yield parameter.help, None, ("simulations/parameters.py", 0)
    for name in CALIBRATED_SETTINGS:
        yield SETTINGS_BY_NAME[name].help, None, ("simulations/parameters.py", 0)
    for name in list_scenarios():
        yield load_scenario(name)["description"], None, (f"simulations/scenarios/{name}.yaml", 0)
    for description in PRESET_DESCRIPTIONS.values():
        yield description, None, ("simulations/strategy.py", 0)
    for context, labels in ((plots.DICK_BASU_CONTEXT, plots.DICK_BASU_LABELS),
                            (plots.MOTIVE_CONTEXT, plots.MOTIVE_LABELS)):
        for label in labels.values():
            yield label, context, ("simulations/plots.py", 0)


def template() -> Catalog:
    """The English messages, each once (per context), with where it is used."""
    catalog = Catalog(project="Loyalty Lab", domain=DOMAIN, charset="utf-8", fuzzy=False)
    for message, context, location in (*source_messages(), *generated_messages()):
        existing = catalog.get(message, context)
        if existing is None:
            catalog.add(message, locations=[location] if location[1] else [], context=context)
        elif location[1]:
            existing.locations.append(location)
    return catalog


def read(path: Path) -> Catalog | None:
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle)


def _write(catalog: Catalog, path: Path) -> None:
    """Write a catalog atomically (a reader never sees half a file), without Babel's false format flags."""
    drop_false_format_flags(catalog)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=120, omit_header=False, ignore_obsolete=True, include_previous=False)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(buffer.getvalue())
    temporary.replace(path)


def update() -> Catalog:
    """Write the template and bring each language's catalog in step with it (translations kept)."""
    english = template()
    _write(english, TEMPLATE)
    for language in TRANSLATIONS:
        path = catalog_path(language, DOMAIN)
        old = read(path)
        catalog = Catalog(locale=language, project="Loyalty Lab", domain=DOMAIN, charset="utf-8", fuzzy=False)
        for message in english:
            if not message.id:
                continue
            kept = old.get(message.id, message.context) if old is not None else None
            catalog.add(message.id, kept.string if kept else "", locations=message.locations,
                        flags=kept.flags if kept else (), context=message.context)
        _write(catalog, path)
    return english


def problems(language: str) -> list[str]:
    """Each message of the source that the language's catalog lacks, leaves empty or marks fuzzy."""
    catalog = read(catalog_path(language, DOMAIN))
    if catalog is None:
        return [f"{catalog_path(language, DOMAIN)}: no catalog"]
    found = []
    for message in template():
        if not message.id:
            continue
        translated = catalog.get(message.id, message.context)
        label = message.id if message.context is None else f"{message.context}|{message.id}"
        if translated is None:
            found.append(f"{language}: missing {label!r}")
        elif not translated.string:
            found.append(f"{language}: empty {label!r}")
        elif translated.fuzzy:
            found.append(f"{language}: fuzzy {label!r}")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("extract", "check", "stats"))
    args = parser.parse_args(argv)
    if args.command == "extract":
        english = update()
        print(f"{sum(1 for m in english if m.id)} messages -> {TEMPLATE.relative_to(ROOT)}")
        return 0
    if args.command == "stats":
        for language in TRANSLATIONS:
            catalog = read(catalog_path(language, DOMAIN)) or []
            messages = [m for m in catalog if m.id]
            print(f"{language}: {len(messages)} messages, {sum(bool(m.string) and not m.fuzzy for m in messages)} "
                  f"translated, {sum(m.fuzzy for m in messages)} fuzzy, {sum(not m.string for m in messages)} empty")
        return 0
    found = [problem for language in TRANSLATIONS for problem in problems(language)]
    print("\n".join(found) or "every message translated in " + ", ".join(TRANSLATIONS))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
