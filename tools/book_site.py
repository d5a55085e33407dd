"""Build the book in every language into one site, and keep the translation catalogs in step with the English source.

    python tools/book_site.py build [--languages en,it,pl,zh_CN]   the site in _build/html (English at its root,
                                                                  each translation in _build/html/<language>/)
    python tools/book_site.py extract                              English messages -> book/locales/*/LC_MESSAGES
                                                                  and the quiz banks' -> exercises/locales
                                                                  (new ones untranslated, changed ones fuzzy)
    python tools/book_site.py stats                                translated / fuzzy / untranslated per language

English is built by `jupyter-book build` exactly as before. A translation is built by `sphinx-build` itself, because
`jupyter-book build` cannot pass `-D language=...` (jupyter-book#1791): the Sphinx configuration is generated from
_config.yml (`jupyter-book config sphinx`), never written by hand, into _build/conf. Each language is built in its own
folder (_build/lang/<language>, with its own execution cache _build/lang/<language>/jupyter_cache, because myst-nb writes executed
notebooks and glue data beside the build and jupyter-cache keys on the code alone) and then copied into the site.
"""
from __future__ import annotations

import argparse
import fcntl
import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulations.i18n import LANGUAGES, TRANSLATIONS, check_language  # noqa: E402
from simulations.result_cache import CACHE_FOLDER  # noqa: E402
import translate  # noqa: E402  (tools/translate.py, beside this file)
from translate import drop_false_format_flags  # noqa: E402

BUILD = ROOT / "_build"
SITE = BUILD / "html"
CONF = BUILD / "conf"
LOCALES = ROOT / "book" / "locales"
BIN = Path(sys.executable).parent


def write_sphinx_conf() -> Path:
    """_build/conf/conf.py: jupyter-book's translation of _config.yml, plus what a translated build needs."""
    CONF.mkdir(parents=True, exist_ok=True)
    # jupyter-book writes conf.py into the book's root: one build at a time may do it (the tests build languages
    # on several workers at once)
    with (CONF / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run([str(BIN / "jupyter-book"), "config", "sphinx", str(ROOT)], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        generated = ROOT / "conf.py"
        text = generated.read_text(encoding="utf-8")
        generated.unlink()
    text += (
        "\n# Added by tools/book_site.py for the translated builds\n"
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        f"locale_dirs = [{str(LOCALES)!r}]\n"
        f"bibtex_bibfiles = [{str(ROOT / 'book' / 'references.bib')!r}]  # read relative to this folder otherwise\n"
        "project = 'Loyalty Lab'\n"
        "gettext_compact = False          # one catalog per page, named like the page\n"
        "gettext_uuid = False\n"
        "gettext_location = False         # catalogs do not churn when a paragraph moves\n"
        "gettext_additional_targets = ['index']\n"
    )
    partial = CONF / f"conf.py.{os.getpid()}"
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, CONF / "conf.py")  # a build reading it meanwhile sees the old file or the new, never half
    return CONF


def sphinx(builder: str, outdir: Path, doctrees: Path, *options: str, env: dict | None = None) -> int:
    command = [str(BIN / "sphinx-build"), "-b", builder, "-c", str(CONF), "-d", str(doctrees), *options,
               str(ROOT), str(outdir)]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def extract() -> None:
    """Refresh book/locales from the English pages: a new message arrives untranslated, a changed one fuzzy."""
    write_sphinx_conf()
    templates = BUILD / "gettext"
    shutil.rmtree(templates, ignore_errors=True)
    code = sphinx("gettext", templates, BUILD / "gettext_doctrees", "-q", "-D", "nb_execution_mode=off")
    if code:
        sys.exit(code)
    add_figure_captions(templates)
    arguments = [str(BIN / "sphinx-intl"), "update", "-p", str(templates), "-d", str(LOCALES), "-w", "0"]
    for language in TRANSLATIONS:
        arguments += ["-l", language]
    subprocess.run(arguments, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    for language in TRANSLATIONS:
        for path in (LOCALES / language / "LC_MESSAGES").rglob("*.po"):
            rewrite_without_false_format_flags(path)
    extract_quizzes()


def add_figure_captions(templates: Path) -> None:
    """Each page's template gains the captions of the figures its code cells draw: Sphinx extracts them only from
    an executed page (they are cell metadata that myst-nb turns into a figure when it renders the outputs), and the
    extraction does not execute the pages."""
    from babel.messages.pofile import read_po, write_po

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from translated_source import figure_captions

    for template in templates.rglob("*.pot"):
        source = ROOT / template.relative_to(templates).with_suffix(".md")
        captions = figure_captions(source.read_text(encoding="utf-8")) if source.exists() else []
        if not captions:
            continue
        with template.open("rb") as handle:
            catalog = read_po(handle)
        for caption in captions:
            catalog.add(caption)
        with template.open("wb") as handle:
            write_po(handle, catalog, width=0)


def rewrite_without_false_format_flags(path: Path) -> None:
    """sphinx-intl keeps Babel's python-format flags on paragraphs with "%" (see drop_false_format_flags)."""
    if "-format" not in path.read_text(encoding="utf-8"):
        return
    translate.write(translate.read(path), path)


QUIZZES = ROOT / "exercises" / "quizzes"
QUIZ_LOCALES = ROOT / "exercises" / "locales"


def quiz_template():
    """The quiz banks' texts as one catalog, each message in the context of its question's id (the chapter's id for
    the bank's title): structure (ids, right answers, types) is never translated, and a text that recurs in two
    questions can be translated differently in each."""
    import yaml
    from babel.messages.catalog import Catalog

    template = Catalog(project="Loyalty Lab quizzes")
    for path in sorted(QUIZZES.glob("ch*.yaml")):
        bank = yaml.safe_load(path.read_text(encoding="utf-8"))
        where = [(path.relative_to(ROOT).as_posix(), 0)]
        template.add(bank["title"], context=bank["chapter"], locations=where)
        for question in bank["questions"]:
            template.add(question["question"].strip(), context=question["id"], locations=where)
            for answer in question["answers"]:
                template.add(str(answer["text"]).strip(), context=question["id"], locations=where)
                if answer.get("feedback"):
                    template.add(answer["feedback"].strip(), context=question["id"], locations=where)
    return template


def extract_quizzes() -> None:
    """exercises/locales/<language>/LC_MESSAGES/quizzes.po in step with the banks (new texts untranslated, changed
    ones fuzzy, as for the pages)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    template = quiz_template()
    for language in TRANSLATIONS:
        path = QUIZ_LOCALES / language / "LC_MESSAGES" / "quizzes.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            catalog = Catalog(locale=language, project="Loyalty Lab quizzes")
        catalog.update(template, no_fuzzy_matching=False)
        drop_false_format_flags(catalog)
        buffer = io.BytesIO()
        write_po(buffer, catalog, width=0, omit_header=False, ignore_obsolete=True)
        if path.exists() and without_dates(path.read_bytes()) == without_dates(buffer.getvalue()):
            continue  # nothing changed but the time of extraction: leave the file (and git) alone
        temporary = path.with_suffix(".po.tmp")
        temporary.write_bytes(buffer.getvalue())
        os.replace(temporary, path)


def without_dates(po: bytes) -> bytes:
    return re.sub(rb'"(POT-Creation-Date|PO-Revision-Date): [^"]*"', b"", po)


def build_translation(language: str, strict: bool = True) -> int:
    """One translated book in _build/lang/<language>/html, executed with its own cache and its language's figures."""
    write_sphinx_conf()
    folder = BUILD / "lang" / language
    env = dict(os.environ, LOYALTY_LAB_LANGUAGE=language)
    options = ["-D", f"language={language}", "-D", f"nb_execution_cache_path={folder / 'jupyter_cache'}",
               "-n", "--keep-going", "-q"]
    if strict:
        options.insert(0, "-W")
    return sphinx("html", folder / "html", folder / "doctrees", *options, env=env)


def build_english(strict: bool = True) -> int:
    options = ["--builder", "html", "-n", "--keep-going"] + (["-W"] if strict else [])
    return subprocess.run([str(BIN / "jupyter-book"), "build", str(ROOT), *options], cwd=ROOT).returncode


def assemble(language: str) -> None:
    """Copy a translated build into the site, under its language's folder (the same page names as English)."""
    target = SITE / language
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(BUILD / "lang" / language / "html", target, ignore=shutil.ignore_patterns(".buildinfo"))


def build(languages: list[str]) -> int:
    # the languages share the long seeded simulations of their pages (simulations/result_cache.py)
    os.environ.setdefault(CACHE_FOLDER, str(BUILD / "results"))
    failed = []
    for language in languages:
        started = time.perf_counter()
        code = build_english() if language == "en" else build_translation(language)
        if code:
            failed.append(language)
        elif language != "en":
            assemble(language)
        print(f"{LANGUAGES[language]} ({language}): {'built' if not code else 'FAILED'} in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    if failed:
        print(f"The book failed to build in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def stats() -> None:
    from babel.messages.pofile import read_po

    for language in TRANSLATIONS:
        done = fuzzy = missing = words = 0
        for path in sorted((LOCALES / language / "LC_MESSAGES").rglob("*.po")):
            with path.open("rb") as handle:
                for message in read_po(handle):
                    if not message.id:
                        continue
                    if message.fuzzy:
                        fuzzy += 1
                    elif message.string:
                        done += 1
                        words += len(str(message.id).split())
                    else:
                        missing += 1
        total = done + fuzzy + missing
        print(f"{language}: {done}/{total} translated ({words} English words), {fuzzy} fuzzy, {missing} untranslated")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build the site in every language (or --languages)")
    build_parser.add_argument("--languages", default=",".join(LANGUAGES),
                              help=f"comma-separated, from {', '.join(LANGUAGES)} (default: all)")
    commands.add_parser("extract", help="refresh the catalogs from the English pages")
    commands.add_parser("stats", help="how much of each language is translated")
    arguments = parser.parse_args(argv)
    if arguments.command == "extract":
        extract()
        return 0
    if arguments.command == "stats":
        stats()
        return 0
    try:
        languages = [check_language(code, "--languages") for code in arguments.languages.split(",") if code.strip()]
    except ValueError as error:
        parser.exit(2, f"book_site.py: {error}\n")
    return build(languages)


if __name__ == "__main__":
    sys.exit(main())
