"""Downloads in the page's language, and the glossary in the language's alphabetical order (issue 18).

A translated build serves the `.md` source and the `.ipynb` notebook of each page in its language, translated at build
time from the page's catalog (book/_ext/translated_source.py): prose translated, code cells the English ones, and a
first code cell that makes the notebook draw its figures in the page's language. The quick tests translate the English
sources with the catalogs; the slow ones read what the built site offers and the built glossary's order.
"""
from __future__ import annotations

import html
import json
import re
import sys
from html.parser import HTMLParser

import jupytext
import pytest
from babel.messages.pofile import read_po

from simulations.i18n import TRANSLATIONS
from tests.conftest import HTML, ROOT, each_translation, toc_pages

sys.path.insert(0, str(ROOT / "book" / "_ext"))
from plain_notebook import leftover_markup  # noqa: E402
from translated_source import (LANGUAGE_CELL_TAG, _parser, alphabetical_key, figure_captions,  # noqa: E402
                               glossary_entries, translate_myst, translate_notebook, translate_notebook_source)

LOCALES = ROOT / "book" / "locales"
CHAPTER = "book/ch05_bonding"
LAB = "book/labs/lab01"
GLOSSARY = "book/appendix/glossary"
TOC_CAPTIONS = {"Chapters and their labs", "Instructor guide", "Appendices"}  # from _toc.yml, not from a page


def catalog(language: str, page: str) -> dict[str, str]:
    with (LOCALES / language / "LC_MESSAGES" / f"{page}.po").open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and m.string and not m.fuzzy}


def english_source(page: str) -> str:
    return (ROOT / f"{page}.md").read_text(encoding="utf-8")


def is_language_cell(cell) -> bool:
    return LANGUAGE_CELL_TAG in ((cell.get("metadata") or {}).get("tags") or [])


def code_cells(notebook: dict) -> list[str]:
    return [_source(cell) for cell in notebook["cells"] if cell["cell_type"] == "code" and not is_language_cell(cell)]


def _source(cell) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else text


def headings(markdown: str) -> list[str]:
    """The headings of MyST Markdown, as Markdown reads them (a code cell's `# comment` is none)."""
    tokens = _parser().parse(markdown)
    return [tokens[i + 1].content.strip() for i, token in enumerate(tokens) if token.type == "heading_open"]


# ------------------------------------------------------------------------------------------------ quick
@pytest.mark.parametrize("language", TRANSLATIONS)
def test_every_message_of_every_page_reaches_its_translated_source(language):
    """Each page's translated source holds the translation of each of its catalog's messages (the toc's captions
    aside, which come from _toc.yml): nothing the reader sees translated on the page stays English in the download."""
    missing = []
    for page in toc_pages():
        messages = catalog(language, page)
        used = set()

        def translate(key):
            used.add(key)
            return messages.get(key)

        translate_notebook_source(english_source(page), translate, language)
        missing += [f"{page}: {key[:80]!r}" for key in set(messages) - used - TOC_CAPTIONS]
    assert not missing, "\n".join(missing[:20])


@pytest.mark.parametrize("language", TRANSLATIONS)
@pytest.mark.parametrize("page", [CHAPTER, LAB])
def test_a_translated_source_reads_in_its_language_and_keeps_its_code(language, page):
    messages = catalog(language, page)
    english, translated = english_source(page), translate_notebook_source(english_source(page), messages.get, language)
    assert headings(translated) == [messages[title] for title in headings(english)]
    for paragraph in re.split(r"\n\s*\n", english):  # a plain paragraph of prose: its translation is in the download
        key = " ".join(line.strip() for line in paragraph.splitlines())
        if key in messages and not paragraph.lstrip().startswith(("#", "-", "|", "`", ":", ">", "(")):
            assert messages[key] in translated.splitlines(), key[:80]
    english_notebook, notebook = jupytext.reads(english, fmt="md:myst"), jupytext.reads(translated, fmt="md:myst")
    assert code_cells(notebook) == code_cells(english_notebook)
    assert [cell.cell_type for cell in notebook.cells if not is_language_cell(cell)] == \
        [cell.cell_type for cell in english_notebook.cells]
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert is_language_cell(first_code) and f"set_language({language!r})" in first_code.source
    assert captions(notebook) == [messages[caption] for caption in captions(english_notebook)]


def captions(notebook) -> list[str]:
    """The captions of the figures a notebook's code cells draw, as jupytext reads them (lines joined)."""
    found = [((cell.metadata.get("mystnb") or {}).get("figure") or {}).get("caption") for cell in notebook.cells]
    return [" ".join(str(caption).split()) for caption in found if caption]


def test_a_code_cells_figure_caption_is_a_message_and_is_translated_in_the_source():
    text = ("```{code-cell} ipython3\n---\nmystnb:\n  figure:\n    name: fig-x\n    caption: |\n      Profit by tier,\n"
            "      three years.\n---\nplot()\n```\n\n```{code-cell} ipython3\n---\nmystnb:\n  figure:\n"
            "    caption: One line.\n    name: fig-y\n---\nplot()\n```\n\n```python\ncaption: |\n  not a cell\n```\n")
    assert figure_captions(text) == ["Profit by tier, three years.", "One line."]
    translated = translate_myst(text, {"Profit by tier, three years.": "Profitto: per fascia",
                                       "One line.": "Una riga."}.get)
    notebook = jupytext.reads(translated, fmt="md:myst")
    assert captions(notebook) == ["Profitto: per fascia", "Una riga."]
    assert [cell.metadata["mystnb"]["figure"]["name"] for cell in notebook.cells if cell.cell_type == "code"] == \
        ["fig-x", "fig-y"]
    assert [cell.source for cell in notebook.cells if cell.cell_type == "code"] == ["plot()", "plot()"]


def test_markdown_outside_the_catalog_stays_as_it_is():
    text = ("# Title\n\nA paragraph\nover two lines.\n\n- an item\n  wrapped\n- another\n\n| a | b |\n|---|---|\n"
            "| x | y |\n\n```{admonition} Watch out\n:class: tip\nBody text.\n```\n\n```{code-cell} ipython3\n"
            "print('A paragraph over two lines.')\n```\n")
    assert translate_myst(text, {}.get) == text
    messages = {"Title": "Titolo", "A paragraph over two lines.": "Un paragrafo.", "an item wrapped": "una voce",
                "x": "ics | pipe", "Watch out": "Attenzione", "Body text.": "Testo."}
    translated = translate_myst(text, messages.get)
    assert translated == ("# Titolo\n\nUn paragrafo.\n\n- una voce\n- another\n\n| a | b |\n|---|---|\n"
                          "| ics \\| pipe | y |\n\n```{admonition} Attenzione\n:class: tip\nTesto.\n```\n\n"
                          "```{code-cell} ipython3\nprint('A paragraph over two lines.')\n```\n")


def test_a_notebook_is_translated_cell_by_cell_and_runs_in_the_language():
    notebook = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
        {"cell_type": "code", "metadata": {"mystnb": {"figure": {"caption": "A figure."}}}, "outputs": [],
         "execution_count": 1, "source": "x = 1"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 2, "source": "y = 2"}]}
    translated = translate_notebook(notebook, {"Title": "Tytuł", "A figure.": "Rycina."}.get, "pl")
    assert [_source(cell) for cell in translated["cells"]][0] == "# Tytuł"
    assert is_language_cell(translated["cells"][1]) and "set_language('pl')" in _source(translated["cells"][1])
    assert code_cells(translated) == ["x = 1", "y = 2"]
    assert translated["cells"][2]["metadata"]["mystnb"]["figure"]["caption"] == "Rycina."
    assert notebook["cells"][0]["source"] == "# Title"  # the English notebook untouched


def test_the_glossary_source_is_sorted_by_its_translated_terms():
    text = english_source(GLOSSARY)
    translated = translate_notebook_source(text, catalog("pl", GLOSSARY).get, "pl")
    body = translated.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    terms = [entry_terms[0] for entry_terms, _ in glossary_entries(body.split("\n", 2)[2])[1]]  # first term of each
    assert len(terms) > 50 and terms == sorted(terms, key=lambda term: alphabetical_key(term, "pl"))


@pytest.mark.parametrize("language, words", [
    ("pl", ["adwokat", "ankieta", "cena", "czynnik", "ćwiartki", "łata", "lody", "źródło", "zysk", "żaba"]),
    ("it", ["affinità", "apostolo", "è", "eco", "età", "fedeltà", "Gold", "zona"]),
    ("zh_CN", ["阿姨", "北京", "常客", "重复购买", "传道者", "忠诚", "钻石"]),
])
def test_each_language_has_its_own_alphabetical_order(language, words):
    expected = {"pl": ["adwokat", "ankieta", "cena", "czynnik", "ćwiartki", "lody", "łata", "zysk", "źródło", "żaba"],
                "it": ["affinità", "apostolo", "è", "eco", "età", "fedeltà", "Gold", "zona"],
                "zh_CN": ["阿姨", "北京", "常客", "重复购买", "传道者", "忠诚", "钻石"]}[language]
    assert sorted(reversed(words), key=lambda word: alphabetical_key(word, language)) == expected


# ------------------------------------------------------------------------------------------------ the built site
def downloaded(language: str, page: str, suffix: str) -> str:
    return (HTML / language / "_sources" / f"{page}{suffix}").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("language", each_translation())
@pytest.mark.parametrize("page", [CHAPTER, LAB])
def test_the_site_offers_each_page_in_its_language(translated_book, language, page):
    """The `.md` and the `.ipynb` a reader downloads from a translated page: headings and paragraphs in the page's
    language (as its catalog has them), the English code cells, and a first code cell that sets the language."""
    translated_book(language)
    messages = catalog(language, page)
    english_md = english_source(page)
    offered_md = downloaded(language, page, ".md")
    assert offered_md == translate_notebook_source(english_md, messages.get, language)
    assert headings(offered_md) == [messages[title] for title in headings(english_md)]
    assert code_cells(jupytext.reads(offered_md, fmt="md:myst")) == code_cells(jupytext.reads(english_md, fmt="md:myst"))

    offered_ipynb = json.loads(downloaded(language, page, ".ipynb"))
    markdown = "\n".join(_source(cell) for cell in offered_ipynb["cells"] if cell["cell_type"] == "markdown")
    assert [messages[title] for title in headings(english_md)] == headings(markdown)
    # Its code cells are the English download's (translate_notebook leaves code alone: the fast test above); that
    # download is built on another worker, so the .md's code, compared above, is what is held here.
    assert code_cells(offered_ipynb)
    first_code = next(cell for cell in offered_ipynb["cells"] if cell["cell_type"] == "code")
    assert is_language_cell(first_code) and f"set_language({language!r})" in _source(first_code)
    assert not leftover_markup(offered_ipynb)  # plain Markdown, as the English download
    shown = re.findall(r'<span class="pasted-text">([^<]*)</span>',
                       (HTML / language / f"{page}.html").read_text(encoding="utf-8"))
    missing = [number for number in map(html.unescape, shown) if number not in markdown]
    assert not missing, f"glued numbers the translated page shows but its download does not: {missing[:5]}"


class _Headwords(HTMLParser):
    """The glossary's headwords in the page's order: the first `<dt>` of each entry (a second one, before the entry's
    `<dd>`, is another name for the same term), without its "#" link."""

    def __init__(self):
        super().__init__()
        self.glossary = self.recording = self.in_link = self.after_term = False
        self.words: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag == "dl" and "glossary" in classes:
            self.glossary = True
        elif self.glossary and tag == "dt":
            self.recording = not self.after_term  # a second <dt> before the <dd>: another name, not a headword
            if self.recording:
                self.words.append("")
        elif self.glossary and tag == "dd":
            self.after_term = False
        elif tag == "a" and "headerlink" in classes:
            self.in_link = True

    def handle_endtag(self, tag):
        if tag == "dt" and self.glossary:
            self.recording, self.after_term = False, True
        elif tag == "a":
            self.in_link = False
        elif tag == "dl":
            self.glossary = False

    def handle_data(self, data):
        if self.recording and not self.in_link:
            self.words[-1] += data


@pytest.mark.slow
@pytest.mark.parametrize("language", each_translation())
def test_the_built_glossary_is_in_the_languages_alphabetical_order(translated_book, language):
    translated_book(language)
    parser = _Headwords()
    parser.feed((HTML / language / f"{GLOSSARY}.html").read_text(encoding="utf-8"))
    words = [word.strip() for word in parser.words]
    assert len(words) > 50
    assert words == sorted(words, key=lambda word: alphabetical_key(word, language))
    translations = set(catalog(language, GLOSSARY).values())
    assert sum(word in translations for word in words) > 0.9 * len(words)  # the translated terms, not the English
