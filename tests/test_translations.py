"""The course in Italian, Polish and Simplified Chinese: catalogs complete and in step, terms held, the site built.

One English source, gettext catalogs beside it (book/locales for the pages; simulations, exercises and classroom
each keep their own): a new English message arrives untranslated and a changed one fuzzy, and these tests fail on
either, so a translation can never silently drift from the English.
"""
from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml
from babel.messages.pofile import read_po

from simulations.i18n import DOMAINS, LANGUAGES, TRANSLATIONS
from tests.conftest import BOOK_GROUP, HTML, ROOT, each_translation, toc_pages

sys.path.insert(0, str(ROOT / "tools"))
import translate  # noqa: E402  (tools/translate.py: the markup rules a translation must keep)

LOCALES = ROOT / "book" / "locales"
TERMS = yaml.safe_load((LOCALES / "terms.yaml").read_text(encoding="utf-8"))["terms"]
GLOSSARY = ROOT / "book" / "appendix" / "glossary.md"
SEVEN_TYPES_IN_THE_CHINESE_NOTES = ["不自主忠诚型", "假性忠诚", "潜在忠诚", "利益忠诚", "激励忠诚", "品牌忠诚", "超值忠诚"]


def catalogs(language: str) -> list[Path]:
    """Every catalog of a language: the book's pages and site words, and the packages' domains."""
    folders = {LOCALES / language / "LC_MESSAGES"} | {folder / language / "LC_MESSAGES" for folder in DOMAINS.values()}
    return sorted(path for folder in folders if folder.exists() for path in folder.rglob("*.po"))


def messages(path: Path):
    with path.open("rb") as handle:
        return [message for message in read_po(handle) if message.id]


def page_catalog(language: str, page: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{page}.po"


# ------------------------------------------------------------------------------------------------ the catalogs
@pytest.mark.parametrize("language", TRANSLATIONS)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    unfinished = [f"{path.relative_to(ROOT)}: {'fuzzy' if m.fuzzy else 'untranslated'}: {str(m.id)[:70]!r}"
                  for path in catalogs(language) for m in messages(path) if m.fuzzy or not m.string]
    assert not unfinished, f"{len(unfinished)} messages unfinished in {language}:\n" + "\n".join(unfinished[:15])


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_every_page_of_the_book_has_its_catalog(language):
    missing = [page for page in toc_pages() if not page_catalog(language, page).exists()]
    assert not missing


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translations_keep_the_english_markup(language):
    """Glue numbers, cross-reference targets, code, links and maths as in English; {term} links to the term base."""
    known = translate.terms(language)
    trouble = [f"{path.relative_to(LOCALES)}: {str(m.id)[:50]!r}: {problem}"
               for path in sorted((LOCALES / language / "LC_MESSAGES" / "book").rglob("*.po"))
               for m in messages(path) if m.string
               for problem in translate.problems(m.id, m.string, language, known)]
    assert not trouble, "\n".join(trouble[:15])


def test_the_markup_check_refuses_a_translation_that_drops_a_glued_number():
    english = "The firm keeps {glue:text}`ch01_kept:.0%` of its customers ({numref}`fig-ch01-customers`)."
    assert translate.problems(english, "L'impresa tiene i suoi clienti ({numref}`fig-ch01-customers`).", "it", set())
    assert translate.problems(english, "L'impresa tiene {glue:text}`ch01_kept:.0%` dei clienti.", "it", set())
    assert not translate.problems(
        english, "L'impresa tiene il {glue:text}`ch01_kept:.0%` dei clienti ({numref}`fig-ch01-customers`).", "it", set())


@pytest.mark.xdist_group(BOOK_GROUP)  # it writes _build/conf, as the site's build does
def test_the_catalogs_hold_exactly_the_messages_of_the_english_pages(tmp_path):
    """Extract the English pages afresh: every message is in every language's catalog, and no catalog keeps a
    message the English no longer has (a page edited without `tools/book_site.py extract` fails here)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import book_site

    book_site.write_sphinx_conf()
    code = book_site.sphinx("gettext", tmp_path / "pot", tmp_path / "doctrees", "-q", "-D", "nb_execution_mode=off")
    assert code == 0
    book_site.add_figure_captions(tmp_path / "pot")  # the captions of the figures code cells draw, as extract adds
    for template in (tmp_path / "pot").rglob("*.pot"):
        page = template.relative_to(tmp_path / "pot").with_suffix("").as_posix()
        english = {(m.context, m.id) for m in messages(template)}
        for language in TRANSLATIONS:
            kept = {(m.context, m.id) for m in messages(page_catalog(language, page)) if not m.fuzzy}
            assert english <= kept, f"{page} ({language}): {len(english - kept)} English messages not in the catalog"


# ------------------------------------------------------------------------------------------------ the term base
def glossary_headwords() -> list[str]:
    text = GLOSSARY.read_text(encoding="utf-8")
    block = text[text.index("```{glossary}"):]
    block = block[:block.index("\n```", 5)]
    return [line.strip() for line in block.splitlines()[1:] if line.strip() and not line.startswith((" ", ":"))]


def test_every_glossary_term_is_in_the_term_base_in_every_language():
    english = {entry["en"] for entry in TERMS}
    assert set(glossary_headwords()) <= english
    for entry in TERMS:
        assert all(entry.get(language) for language in TRANSLATIONS), entry["en"]


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_each_term_has_its_own_word(language):
    words = [str(entry[language]).lower() for entry in TERMS if entry["en"] not in ("CLV", "NPS")]
    assert len(words) == len(set(words))


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_the_translated_glossary_uses_the_term_base_words(language):
    """Each headword of the glossary is translated as the term base says, so every {term} link finds it."""
    base = {entry["en"]: str(entry[language]) for entry in TERMS}
    glossary = {m.id: m.string for m in messages(page_catalog(language, "book/appendix/glossary"))}
    wrong = {term: glossary.get(term) for term in glossary_headwords()
             if glossary.get(term) and glossary[term] != base[term]}
    assert not wrong


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_the_chinese_notes_names_of_the_seven_loyalty_types_are_kept(language):
    """The course notes' own terms stay beside the translation in every language (ch04's table of the seven types)."""
    translated = {m.id: m.string for m in messages(page_catalog(language, "book/ch04_satisfaction_and_loyalty"))}
    for original in SEVEN_TYPES_IN_THE_CHINESE_NOTES:
        assert translated.get(original) in ("", original), f"{original} became {translated.get(original)!r}"


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_the_terms_appear_in_the_pages_that_use_them(language):
    """A key term's translation is the word the pages use: where an English message names a glossary term in a
    {term} link, its translation links to that term's word in the term base."""
    base = {entry["en"].lower(): str(entry[language]).lower() for entry in TERMS}
    wrong = []
    for path in sorted((LOCALES / language / "LC_MESSAGES" / "book").rglob("*.po")):
        for m in messages(path):
            if not m.string:
                continue
            english = sorted(translate.target(c).lower() for r, c in translate.ROLE.findall(m.id) if r == "term")
            linked = sorted(translate.target(c).lower() for r, c in translate.ROLE.findall(m.string) if r == "term")
            expected = sorted(base.get(term, term) for term in english)
            if linked != expected:
                wrong.append(f"{path.name}: {english} -> {linked}, expected {expected}")
    assert not wrong, "\n".join(wrong[:10])


# ------------------------------------------------------------------------------------------------ the built site
class _Text(HTMLParser):
    """The visible prose of a page's article: no code, no code cells' outputs (tables and figures the package draws,
    checked by tests/test_i18n_figures.py), no scripts, no styles, no maths."""

    SKIPPED = {"script", "style", "pre", "code", "math", "svg"}

    def __init__(self):
        super().__init__()
        self.skip, self.inside, self.output_divs, self.parts = 0, 0, 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "article":
            self.inside += 1
        if tag in self.SKIPPED:
            self.skip += 1
        if tag == "div" and (self.output_divs or "cell_output" in (dict(attrs).get("class") or "")):
            self.output_divs += 1

    def handle_endtag(self, tag):
        if tag == "article":
            self.inside -= 1
        if tag in self.SKIPPED and self.skip:
            self.skip -= 1
        if tag == "div" and self.output_divs:
            self.output_divs -= 1

    def handle_data(self, data):
        if self.inside and not self.skip and not self.output_divs:
            self.parts.append(data)


def article_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return " ".join(parser.parts)


ENGLISH_FUNCTION_WORDS = {"the", "and", "of", "to", "is", "that", "with", "for", "are", "this", "which", "it",
                          "they", "their", "from", "more", "than", "who", "what", "when", "how"}


def english_share(text: str) -> float:
    words = re.findall(r"[A-Za-z]+", text)
    return sum(word.lower() in ENGLISH_FUNCTION_WORDS for word in words) / max(1, len(re.findall(r"\w+", text)))


def chinese_share(text: str) -> float:
    letters = re.findall(r"[A-Za-z\u4e00-\u9fff]", text)
    return sum("\u4e00" <= ch <= "\u9fff" for ch in letters) / max(1, len(letters))


@pytest.mark.slow
@pytest.mark.parametrize("language", each_translation())
def test_each_language_builds_every_page_without_a_single_warning(translated_book, language, record_property):
    built = translated_book(language)
    record_property(f"book_build_seconds_{language}", round(built.seconds, 1))
    assert built.returncode == 0 and not built.warnings(), "\n".join(built.warnings()[:20]) or built.log[-3000:]
    missing = [page for page in toc_pages() if not (HTML / language / f"{page}.html").exists()]
    assert not missing  # the switcher's links into this language rely on every page being there


@pytest.mark.slow
@pytest.mark.parametrize("language", each_translation())
def test_every_page_reads_in_its_language(translated_book, language):
    """Measured on the prose a reader sees: English function words are rare in Italian and Polish pages (an
    English page has about one word in five), and Chinese pages are mostly Chinese characters."""
    translated_book(language)
    english_prose = " ".join(str(m.id) for m in messages(page_catalog(language, "book/ch01_why_loyalty_pays")))
    assert english_share(english_prose) > 0.15 and chinese_share(english_prose) < 0.05  # the measure tells English
    wrong = {}
    for page in set(toc_pages()) - {"book/appendix/bibliography"}:  # a list of English titles, in every language
        text = article_text(HTML / language / f"{page}.html")
        if language == "zh_CN" and chinese_share(text) < 0.5:
            wrong[page] = f"{chinese_share(text):.0%} Chinese characters"
        if language != "zh_CN" and english_share(text) > 0.04:
            wrong[page] = f"{english_share(text):.1%} English function words"
    assert not wrong


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inside, self.links = False, {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "nav" and "loyalty-lab-languages" in (attributes.get("class") or ""):
            self.inside = True
        elif tag == "a" and self.inside:
            self.links[attributes["hreflang"]] = attributes["href"]

    def handle_endtag(self, tag):
        if tag == "nav":
            self.inside = False


def broken_switcher_links(language: str) -> list:
    """Every page of one language's build: its switcher names every other language, and each link opens the same
    page in that language's folder (whose build test checks that every page is there)."""
    folder = HTML if language == "en" else HTML / language
    broken = []
    for page in toc_pages():
        parser = _Links()
        parser.feed((folder / f"{page}.html").read_text(encoding="utf-8"))
        others = {code.replace("-", "_") for code in parser.links}
        if others != set(LANGUAGES) - {language}:
            broken.append((page, sorted(others)))
        for code, href in parser.links.items():
            target = Path(urljoin((folder / f"{page}.html").as_uri(), href).removeprefix("file://"))
            expected = (HTML if code == "en" else HTML / code.replace("-", "_")) / f"{page}.html"
            if target != expected:
                broken.append((page, href))
    return broken


@pytest.mark.slow
@pytest.mark.xdist_group(BOOK_GROUP)
def test_the_english_switcher_opens_the_same_page_in_every_language(built_book):
    assert not broken_switcher_links("en")


@pytest.mark.slow
@pytest.mark.parametrize("language", each_translation())
def test_the_language_switcher_opens_the_same_page_in_every_language(translated_book, language):
    translated_book(language)
    assert not broken_switcher_links(language)


GLUED_TEXT = re.compile(r"\{glue:text\}`([^`:]+)(?::([^`]*))?`")


@pytest.mark.slow
@pytest.mark.parametrize("language", each_translation())
def test_glued_numbers_survive_translation_in_the_languages_notation(translated_book, language):
    """A translated paragraph keeps its computed numbers (myst-nb's glue), written as the language writes them:
    each glued value of the page's prose, formatted as myst-nb formats it for English, then in the language's
    notation, is on the translated page as often as the English source glues it."""
    from myst_nb.core.variables import format_plain_text

    translated_book(language)
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from loyalty_lab_i18n import localised_number

    page = "book/ch01_why_loyalty_pays"
    glue = json.loads((ROOT / "_build" / "lang" / language / "jupyter_execute" / f"{page}.glue.json").read_text())
    source = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    expected = [localised_number(format_plain_text(glue[key]["data"]["text/plain"], fmt or ""), language)
                for key, fmt in GLUED_TEXT.findall(source)]
    translated = (HTML / language / f"{page}.html").read_text(encoding="utf-8")
    pasted = re.findall(r'<span class="pasted-text">([^<]*)</span>', translated)
    assert len(expected) > 5
    assert Counter(pasted) == Counter(expected)


def test_the_switcher_link_is_relative_so_it_works_on_file_urls():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from loyalty_lab_i18n import language_link

    assert language_link("book/ch01_why_loyalty_pays", "en", "it") == "../it/book/ch01_why_loyalty_pays.html"
    assert language_link("book/ch01_why_loyalty_pays", "it", "en") == "../../book/ch01_why_loyalty_pays.html"
    assert language_link("book/appendix/glossary", "pl", "zh_CN") == "../../../zh_CN/book/appendix/glossary.html"


def test_make_book_rejects_an_unknown_language_with_exit_2():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "book_site.py"), "build", "--languages", "en,fr"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "'fr'" in done.stderr and "zh_CN" in done.stderr


# ------------------------------------------------------------------------------------------------ what code cells show
#: Pages whose cell outputs stay English on purpose: the command line's help and a tournament's printout (the command
#: line may stay English), the model's code reference (names and docstrings of the code).
ENGLISH_OUTPUT_PAGES = {"book/appendix/command_line", "book/instructor/tournament", "book/appendix/model_reference",
                        "book/appendix/bibliography"}


class _Outputs(HTMLParser):
    """What code cells put on a page: their outputs (tables, printed lines, Markdown, the captions of the figures they
    draw) and the phrases glued into the prose (`pasted-text`), not the code itself, nor the scripts and styles of
    explorables and quizzes (data, not text)."""

    SKIPPED = {"script", "style"}

    def __init__(self):
        super().__init__()
        self.output_divs, self.pasted, self.skip, self.parts = 0, 0, 0, []

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag == "div" and (self.output_divs or "cell_output" in classes):
            self.output_divs += 1
        if tag == "span" and "pasted-text" in classes:
            self.pasted += 1
        if tag in self.SKIPPED:
            self.skip += 1

    def handle_endtag(self, tag):
        if tag == "div" and self.output_divs:
            self.output_divs -= 1
        if tag == "span" and self.pasted:
            self.pasted -= 1
        if tag in self.SKIPPED and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if (self.output_divs or self.pasted) and not self.skip:
            self.parts.append(data)


def cell_output_text(path: Path) -> str:
    parser = _Outputs()
    parser.feed(path.read_text(encoding="utf-8"))
    return "\n".join(parser.parts)


def english_messages(language: str) -> list[str]:
    """The package's English messages that the language translates into other words (placeholders cut out): any of
    them found on a translated page is text a cell left in English."""
    from simulations.i18n import translations

    found = set()
    for (_context, english), translated in translations(language).items():
        if translated.strip() == english.strip():
            continue
        for piece in re.split(r"\{[^}]*\}", english):
            piece = piece.strip(" :;,.()+-\n")
            if len(piece) >= 4 and re.search(r"[a-z]{3}", piece):
                found.add(piece)
    return sorted(found, key=len, reverse=True)


#: Words of a language spelled like one of the package's English messages: Polish "firm" is "of firms" ("obu firm").
OWN_WORDS = {"pl": {"firm"}}


def english_left_in(text: str, language: str) -> list[str]:
    """The English messages (whole words, as written) found in `text`, once the language's own words are taken out
    (Italian keeps "share of wallet", which holds the English message "share") and so are strategies printed as
    YAML (`loyalty_programme: none` is code)."""
    from simulations.i18n import translations
    from simulations.parameters import LEVERS_BY_NAME

    text = "\n".join(line for line in text.splitlines() if line.split(":")[0].strip() not in LEVERS_BY_NAME)
    for translated in sorted(set(translations(language).values()), key=len, reverse=True):
        if len(translated) >= 4:
            text = text.replace(translated, " ")
    return [english for english in english_messages(language) if english not in OWN_WORDS.get(language, ())
            and re.search(r"(?<![\w'])" + re.escape(english) + r"(?![\w'])", text)]


@pytest.mark.slow
@pytest.mark.parametrize("language", each_translation())
def test_what_code_cells_show_speaks_the_pages_language(translated_book, language):
    """Tables, printed lines and glued phrases of a translated page hold none of the package's English messages."""
    translated_book(language)
    wrong = {}
    for page in set(toc_pages()) - ENGLISH_OUTPUT_PAGES:
        left = english_left_in(cell_output_text(HTML / language / f"{page}.html"), language)
        if left:
            wrong[page] = left[:8]
    assert not wrong, "\n".join(f"{page}: {left}" for page, left in sorted(wrong.items()))


@pytest.mark.slow
@pytest.mark.parametrize("language", each_translation())
def test_every_figure_a_cell_draws_has_its_caption_in_the_pages_language(translated_book, language):
    """The caption of each figure a code cell draws (cell metadata, not page prose) is the catalog's translation on
    the translated page, on every page (the command line's pages included: a caption is the book's words)."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from translated_source import figure_captions

    translated_book(language)
    wrong, seen = [], 0
    for page in toc_pages():
        captions = figure_captions((ROOT / f"{page}.md").read_text(encoding="utf-8"))
        if not captions:
            continue
        page_html = (HTML / language / f"{page}.html").read_text(encoding="utf-8")
        shown = [words_of(text) for text in re.findall(r'<span class="caption-text">(.*?)</span>', page_html, re.S)]
        translations = {m.id: m.string for m in messages(page_catalog(language, page)) if not m.fuzzy}
        for caption in captions:
            seen += 1
            translation = translations.get(caption)
            if not translation or words_of(translation) not in shown:
                wrong.append(f"{page}: {caption[:70]!r}")
    assert seen >= 40 and not wrong, "\n".join(wrong[:20])


def test_every_theme_word_has_a_translation_in_every_language():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from loyalty_lab_i18n import THEME_WORDS, theme_word_replacements

    for language in TRANSLATIONS:
        replacements = theme_word_replacements(language)
        assert len(replacements) == 3 * len(THEME_WORDS)
        assert all(english != translated for english, translated in replacements.items()), language


@pytest.mark.slow
@pytest.mark.parametrize("language", each_translation())
def test_tooltips_and_screen_reader_labels_speak_the_pages_language(translated_book, language):
    """No translated page (nor the toggle buttons' script) keeps an English tooltip or label that the themes and
    Sphinx write ("Link to this heading", "Toggle primary sidebar", the navigation's "Main", ...)."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from loyalty_lab_i18n import THEME_ATTRIBUTES, THEME_WORDS

    translated_book(language)
    english = re.compile(r'(?:%s)="(%s)"' % ("|".join(THEME_ATTRIBUTES), "|".join(map(re.escape, THEME_WORDS))))
    left = {}
    for page in [*(HTML / language).rglob("*.html"), HTML / language / "_static" / "togglebutton.js"]:
        found = sorted(set(english.findall(page.read_text(encoding="utf-8"))))
        if found:
            left[page.relative_to(HTML).as_posix()] = found
    assert not left, "\n".join(f"{page}: {words}" for page, words in sorted(left.items())[:10])
    assert any(english.search((HTML / f"{page}.html").read_text(encoding="utf-8")) for page in toc_pages()[:3])


def test_a_word_of_the_language_spelled_like_an_english_message_is_not_english():
    caption = _outputs_of('<div class="cell_output"><figcaption>Łączny zysk obu firm.</figcaption></div>')
    assert "firm" not in english_left_in(caption, "pl")
    assert "firm" in english_left_in(_outputs_of('<div class="cell_output"><th>firm</th></div>'), "it")


def test_the_output_check_finds_an_english_table_header_and_a_glued_phrase():
    page = ('<div class="cell_output"><table><th>profit</th><th>reward rate</th></table></div>'
            '<p>Il progetto è il più redditizio <span class="pasted-text">in three of the four markets</span>.</p>')
    text = _outputs_of(page)
    assert "reward rate" in english_left_in(text, "it") and "in three of the four markets" in english_left_in(text, "it")
    assert not english_left_in(_outputs_of('<div class="cell_output"><th>tasso di premio</th></div>'), "it")
    assert "Il progetto" not in text  # prose is the prose test's


def words_of(markup: str) -> str:
    """The letters and digits of a text, without HTML tags, entities, markup, punctuation and spaces (Sphinx curls a
    caption's quotes and dashes, and MyST's * and ` are not on the page)."""
    import html as entities

    return re.sub(r"[\W_]+", "", entities.unescape(re.sub(r"<[^>]+>", "", markup)))


def _outputs_of(html: str) -> str:
    parser = _Outputs()
    parser.feed(html)
    return "\n".join(parser.parts)


def test_bold_that_the_page_would_show_as_asterisks_is_refused_and_repaired():
    """CommonMark does not close ** between 。 and a Chinese character: the page shows the asterisks."""
    english = "**Purpose.** The model lets learners try ideas."
    broken = "**目的。**该模型让学习者尝试想法。"
    assert translate.problems(english, broken, "zh_CN", set())
    repaired = translate.with_bold_that_closes(broken)
    assert repaired == "**目的**。该模型让学习者尝试想法。" and not translate.problems(english, repaired, "zh_CN", set())
    assert translate.with_bold_that_closes("的**{term}`忠诚`**是") == "的 **{term}`忠诚`** 是"


@pytest.mark.parametrize("before, number, after", [
    ("una quota del ", "8%", "una quota dell’"), ("sale al ", "11%", "sale all’"), ("è il ", "1%", "è l’"),
    ("dal ", "80%", "dall’"), ("del ", "12%", "del "), ("il ", "18%", "il "), ("sul ", "110", "sul "),
    ("del ", "1.000", "del "), ("modello ", "8%", "modello "), ("sale all’", "58%", "sale al "),
    ("è l'", "12%", "è il "), ("dell’", "8%", "dell’"), ("quell’", "58%", "quell’")])
def test_an_italian_article_is_elided_before_a_glued_number_read_with_a_vowel(before, number, after):
    """A translator writes "del {glue:text}`key`" not knowing the number: "del 8%" reads "dell'8%"."""
    from docutils import nodes

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from loyalty_lab_i18n import elide_italian_articles

    paragraph = nodes.paragraph("", "", nodes.Text(before), nodes.inline("", number, classes=["pasted-text"]),
                                nodes.Text(" dei clienti."))
    document = nodes.section("", paragraph)

    class App:
        class config:
            language = "it"

    elide_italian_articles(App, document)
    assert paragraph.astext() == f"{after}{number} dei clienti."
    App.config.language = "pl"
    polish = nodes.paragraph("", "", nodes.Text("del "), nodes.inline("", "8%", classes=["pasted-text"]))
    elide_italian_articles(App, nodes.section("", polish))
    assert polish.astext() == "del 8%"
