"""A translator's tool for the book's catalogs (book/locales/<language>/LC_MESSAGES/book/...po).

    python tools/translate.py todo LANGUAGE PAGE [--all]    the page's untranslated (or fuzzy) messages, numbered
    python tools/translate.py fill LANGUAGE PAGE FILE       write the translations in FILE into the page's catalog
    python tools/translate.py check LANGUAGE [PAGE ...]     check every translated message's MyST markup
    python tools/translate.py fix-bold LANGUAGE [PAGE ...]  repair ** that would show on the page (。** before a
                                                            Chinese character does not close bold in CommonMark)

PAGE is a page's path without suffix, as in _toc.yml (book/ch01_why_loyalty_pays). `todo` prints blocks

    [12]
    The English message

and FILE holds the same numbers with the translations:

    [12]
    Il messaggio tradotto

A translation is written only when its markup agrees with the English: the same glue numbers ({glue:text}`key:fmt`
verbatim), the same targets of cross-references ({numref}, {ref}, {doc}, {eq}, {cite:p}, {cite:t}), the same inline
code and links (the book has no dollar maths: `$5` is money); {term} links must name a term of the term base (book/locales/terms.yaml) in that language.
A message that fails is left as it was and reported, so nothing written is lost. The catalog is written atomically.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "book" / "locales"
TERMS = LOCALES / "terms.yaml"

ROLE = re.compile(r"\{([\w:+-]+)\}`([^`]*)`")
CODE = re.compile(r"(?<![}`])`([^`]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
BLOCK = re.compile(r"^\[(\d+)\][^\n]*$", re.M)
KEPT_VERBATIM = {"glue:text", "glue", "glue:any", "glue:figure", "glue:math", "cite:p", "cite:t", "cite", "eq",
                 "cite:ps", "cite:ts", "download", "math"}


def catalog_path(language: str, page: str) -> Path:
    """A page's catalog; or, for PAGE ending in .po, that file (the quiz banks': exercises/locales/it/.../quizzes.po)."""
    if page.endswith(".po"):
        return Path(page).resolve()
    return LOCALES / language / "LC_MESSAGES" / f"{page}.po"


def read(path: Path):
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        return read_po(handle, ignore_obsolete=False)


PERCENT_PLACEHOLDER = re.compile(r"%(\(\w+\))?[sd]")


def drop_false_format_flags(catalog) -> None:
    """Babel flags a text with "%" as python-format ("2% of" reads as the directive "% o") and one with a MyST role
    as python-brace-format, and `msgfmt -c` then refuses a right translation ("2% dei"). A real %s or %(name)s, or a
    {}-placeholder without a role, keeps its flag."""
    for message in catalog:
        if not PERCENT_PLACEHOLDER.search(str(message.id)):
            message.flags.discard("python-format")
        if ROLE.search(str(message.id)):  # {glue:text}`key` is MyST, not a {}-placeholder
            message.flags.discard("python-brace-format")


def write(catalog, path: Path) -> None:
    from babel.messages.pofile import write_po

    drop_false_format_flags(catalog)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".po")
    with os.fdopen(handle, "wb") as out:
        write_po(out, catalog, width=0, include_previous=True)
    os.chmod(temporary, 0o644)  # mkstemp makes it private; a catalog is as readable as the rest of the source
    os.replace(temporary, path)


def target(content: str) -> str:
    """A cross-reference's target: the part in <...> when the link has its own text."""
    found = re.search(r"<([^<>]+)>\s*$", content)
    return (found.group(1) if found else content).strip()


def terms(language: str) -> set[str]:
    import yaml

    if not TERMS.exists():
        return set()
    entries = yaml.safe_load(TERMS.read_text(encoding="utf-8"))["terms"]
    return {str(entry[language]).lower() for entry in entries if entry.get(language)}


def problems(english: str, translated: str, language: str, known_terms: set[str]) -> list[str]:
    """What the translation changed in the English message's markup (empty: nothing)."""
    found = []
    roles_en = ROLE.findall(english)
    roles_tr = ROLE.findall(translated)
    verbatim = lambda roles: Counter((r, c) for r, c in roles if r in KEPT_VERBATIM)  # noqa: E731
    if verbatim(roles_en) != verbatim(roles_tr):
        found.append(f"glue/citation/equation roles differ: {sorted(verbatim(roles_en) - verbatim(roles_tr))} "
                     f"missing, {sorted(verbatim(roles_tr) - verbatim(roles_en))} added")
    references = lambda roles: Counter((r, target(c)) for r, c in roles  # noqa: E731
                                       if r not in KEPT_VERBATIM and r != "term")
    if references(roles_en) != references(roles_tr):
        found.append(f"cross-reference targets differ: {sorted(references(roles_en) - references(roles_tr))} missing")
    term_count = lambda roles: sum(1 for r, _ in roles if r == "term")  # noqa: E731
    if term_count(roles_en) != term_count(roles_tr):
        found.append(f"{term_count(roles_en)} {{term}} links in English, {term_count(roles_tr)} in the translation")
    if language != "en" and known_terms:
        for role, content in roles_tr:
            if role == "term" and target(content).lower() not in known_terms:
                found.append(f"{{term}}`{content}`: {target(content)!r} is not a {language} term of terms.yaml")
    strip_roles = lambda text: ROLE.sub("", text)  # noqa: E731
    if Counter(CODE.findall(strip_roles(english))) != Counter(CODE.findall(strip_roles(translated))):
        found.append("inline code differs (keep `code` exactly as in English)")
    if Counter(LINK.findall(english)) != Counter(LINK.findall(translated)):
        found.append("link targets differ")
    if english.count("**") != translated.count("**"):
        found.append("bold markers (**) differ in number")
    elif unclosed_bold(translated) and not unclosed_bold(english):
        found.append("a ** does not open or close bold here (CommonMark: put punctuation such as 。 or “ outside "
                     "the markers, or a space beside them): the page would show the asterisks")
    return found


_MYST = {}


def rendered(text: str) -> str:
    """A message as MyST renders it (HTML, inline), with code spans removed."""
    if not _MYST:
        from markdown_it.renderer import RendererHTML
        from myst_parser.config.main import MdParserConfig
        from myst_parser.parsers.mdit import create_md_parser

        _MYST["parser"] = create_md_parser(MdParserConfig(), RendererHTML)
    return re.sub(r"<code>.*?</code>", "", _MYST["parser"].renderInline(text), flags=re.S)


def unclosed_bold(text: str) -> bool:
    """True when MyST would show a literal ** (a delimiter that CommonMark's flanking rules leave unmatched, as a
    closing ** between 。 and a Chinese character is)."""
    return "**" in text and "**" in rendered(text)


PUNCTUATION_OUTSIDE = "。，、；：！？“”‘’（）《》「」.,;:!?\"'()"


def with_bold_that_closes(text: str) -> str:
    """Each **...** whose markers CommonMark cannot match, repaired: punctuation at the inside edges moved outside
    the markers; then, where that is not enough (a role or code right inside), a space beside the marker."""
    def repair(match):
        before, inner, after = "", match.group(1), ""
        while inner and inner[0] in PUNCTUATION_OUTSIDE:
            before, inner = before + inner[0], inner[1:]
        while inner and inner[-1] in PUNCTUATION_OUTSIDE:
            inner, after = inner[:-1], inner[-1] + after
        return f"{before}**{inner}**{after}"

    if not unclosed_bold(text):
        return text
    fixed = re.sub(r"\*\*(.+?)\*\*", repair, text)
    if unclosed_bold(fixed):
        spaced = re.sub(r"(?<=\S)\*\*(?=\S)(.+?)(?<=\S)\*\*(?=[^\s])",
                        lambda m: f" **{m.group(1)}** ", fixed)
        fixed = spaced if not unclosed_bold(spaced) else fixed
    return fixed


def todo(language: str, page: str, everything: bool) -> None:
    for number, message in enumerate(read(catalog_path(language, page)), start=0):
        if not message.id or (message.string and not message.fuzzy and not everything):
            continue
        context = f"  (question {message.context})" if message.context else ""
        print(f"[{number}]{context}\n{message.id}\n")


def parse_blocks(text: str) -> dict[int, str]:
    parts = BLOCK.split(text)
    return {int(parts[i]): parts[i + 1].strip("\n").rstrip() for i in range(1, len(parts) - 1, 2)}


def fill(language: str, page: str, source: Path) -> int:
    path = catalog_path(language, page)
    catalog = read(path)
    messages = list(catalog)
    known = terms(language)
    written, refused = 0, 0
    for number, translated in sorted(parse_blocks(source.read_text(encoding="utf-8")).items()):
        if not 0 < number < len(messages) or not translated.strip():
            print(f"[{number}] no such message (or an empty translation): skipped")
            refused += 1
            continue
        message = messages[number]
        trouble = problems(message.id, translated, language, known)
        if trouble:
            print(f"[{number}] NOT written: " + "; ".join(trouble))
            refused += 1
            continue
        message.string = translated
        message.flags.discard("fuzzy")
        written += 1
    write(catalog, path)
    left = sum(1 for m in catalog if m.id and (not m.string or m.fuzzy))
    print(f"{page} ({language}): {written} written, {refused} refused, {left} still to translate")
    return 1 if refused else 0


def check(language: str, pages: list[str]) -> int:
    folder = LOCALES / language / "LC_MESSAGES"
    paths = [catalog_path(language, page) for page in pages] or sorted(folder.rglob("*.po"))
    known = terms(language)
    bad = 0
    for path in paths:
        for message in read(path):
            if message.id and message.string:
                for trouble in problems(message.id, message.string, language, known):
                    print(f"{path.relative_to(LOCALES)}: {message.id[:60]!r}: {trouble}")
                    bad += 1
    print(f"{language}: {bad} problems")
    return 1 if bad else 0


def fix_bold(language: str, pages: list[str]) -> int:
    """Repair every translated message of a language whose ** would show on the page (see with_bold_that_closes)."""
    folder = LOCALES / language / "LC_MESSAGES"
    paths = [catalog_path(language, page) for page in pages] or sorted(folder.rglob("*.po"))
    repaired = left = 0
    for path in paths:
        catalog, changed = read(path), False
        for message in catalog:
            if message.id and message.string and unclosed_bold(message.string) and not unclosed_bold(message.id):
                fixed = with_bold_that_closes(message.string)
                if fixed != message.string and not unclosed_bold(fixed):
                    message.string, changed = fixed, True
                    repaired += 1
                else:
                    left += 1
                    print(f"{path}: not repaired: {message.string[:80]!r}")
        if changed:
            write(catalog, path)
    print(f"{language}: {repaired} messages repaired, {left} left")
    return 1 if left else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    todo_parser = commands.add_parser("todo")
    todo_parser.add_argument("language")
    todo_parser.add_argument("page")
    todo_parser.add_argument("--all", action="store_true", help="every message, translated or not")
    fill_parser = commands.add_parser("fill")
    fill_parser.add_argument("language")
    fill_parser.add_argument("page")
    fill_parser.add_argument("file", type=Path)
    check_parser = commands.add_parser("check")
    check_parser.add_argument("language")
    check_parser.add_argument("pages", nargs="*")
    bold_parser = commands.add_parser("fix-bold", help="repair ** that the page would show (CJK punctuation)")
    bold_parser.add_argument("language")
    bold_parser.add_argument("pages", nargs="*")
    arguments = parser.parse_args(argv)
    if arguments.command == "fix-bold":
        return fix_bold(arguments.language, arguments.pages)
    if arguments.command != "check" and not catalog_path(arguments.language, arguments.page).exists():
        parser.exit(2, f"translate.py: page: no catalog {catalog_path(arguments.language, arguments.page)}\n")
    if arguments.command == "todo":
        todo(arguments.language, arguments.page, arguments.all)
        return 0
    if arguments.command == "fill":
        return fill(arguments.language, arguments.page, arguments.file)
    return check(arguments.language, arguments.pages)


if __name__ == "__main__":
    sys.exit(main())
