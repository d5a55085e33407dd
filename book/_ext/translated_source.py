"""A book page's MyST source in another language, made at build time from the page's catalog (no Sphinx needed).

A translated build serves the reader downloads in the page's language: the `.md` source and the `.ipynb` notebook.
Nothing translated is kept in the repository: the English source is translated here, block by block, with the same
messages Sphinx extracted for the page (book/locales/<language>/LC_MESSAGES/<page>.po). A message's id is the MyST
source of one block, as Sphinx reads it: a paragraph's text with its lines joined (also inside list items, block
quotes, admonitions, exercises, figure captions and glossary definitions), a heading's text without its '#', a table
cell, an admonition's title, a glossary term. The block is written back as one line carrying the same prefix
(list marker, quote sign, indentation), so the page keeps its structure and still parses as a MyST notebook.

- Code cells (`{code-cell}`), code blocks, maths, label targets, comments and directive options are copied as they
  are; a block the catalog does not translate stays English rather than break.
- The notebook runs in the reader's language: `language_cell_source` is the cell a download gets before its first
  code cell (`simulations.i18n.set_language`), so its figures and tables speak the page's language.
- A sorted glossary is sorted again by its translated terms, in the language's alphabetical order
  (`alphabetical_key`, also used by book/_ext/loyalty_lab_i18n.py for the built glossary page).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable

Translate = Callable[[str], "str | None"]

MYST_EXTENSIONS = ("colon_fence", "deflist", "substitution")  # as in _config.yml (parse: myst_enable_extensions)
#: Directives whose body is MyST prose (translated); any other directive (code-cell, math, bibliography, ...) is
#: copied as it is.
PROSE_DIRECTIVES = {"admonition", "note", "tip", "hint", "important", "warning", "caution", "attention", "danger",
                    "error", "seealso", "dropdown", "figure", "exercise", "solution", "topic", "sidebar", "margin",
                    "grid", "grid-item", "grid-item-card", "card", "tab-set", "tab-item"}
#: Directives whose argument is a title that Sphinx extracts as a message.
TITLED_DIRECTIVES = {"admonition", "dropdown", "exercise", "topic", "sidebar", "grid-item-card", "card", "tab-item"}
LANGUAGE_CELL_TAG = "reader-language"
#: The language cell's comment, in the site catalog (book/locales/<language>/LC_MESSAGES/site.po).
LANGUAGE_CELL_COMMENT = ("This notebook speaks the language of the page it came from, figures and tables included.",
                         "For English, remove this cell or call set_language(\"en\").")
FENCE_INFO = re.compile(r"^\{([\w:-]+)\}\s*(.*)$")
OPTION_LINE = re.compile(r"^\s*:[\w-]+:")


def message_id(text: str) -> str:
    """A block's source as Sphinx's message id: lines joined with spaces, outer whitespace dropped."""
    return text.replace("\n", " ").strip()


@lru_cache(maxsize=1)
def _parser():
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    return create_md_parser(MdParserConfig(enable_extensions=set(MYST_EXTENSIONS)), RendererHTML)


def translate_myst(text: str, translate: Translate, language: str = "en") -> str:
    """`text` (MyST Markdown) with every block the catalog translates in its translation; the rest as it is."""
    lines = text.split("\n")
    edits: list[tuple[int, int, list[str]]] = []  # (first line, line after, new lines), never overlapping
    tokens = _parser().parse(text)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type in ("heading_open", "dt_open") and token.map:
            _translate_in_line(lines, edits, token.map[0], tokens[index + 1].content, translate)
        elif token.type == "paragraph_open" and token.map:
            edit = _paragraph(lines, token.map, tokens[index + 1].content, translate)
            if edit:
                edits.append(edit)
        elif token.type == "tr_open" and token.map:
            index = _table_row(lines, edits, tokens, index, translate)
        elif token.type == "fence" and token.info.strip().startswith("{code-cell}") and token.map:
            edit = _code_cell_caption(lines, token, translate)
            if edit:
                edits.append(edit)
        elif token.type in ("fence", "colon_fence") and token.map:
            edit = _directive(lines, token, translate, language)
            if edit:
                edits.append(edit)
        index += 1
    for start, end, new in sorted(edits, key=lambda edit: edit[0], reverse=True):
        lines[start:end] = new
    return "\n".join(lines)


def _translated(source: str, translate: Translate) -> str | None:
    key = message_id(source)
    if not key:
        return None
    found = translate(key)
    return found if found and found != key else None


def _translate_in_line(lines, edits, number: int, content: str, translate: Translate) -> None:
    """A heading or a term: its text replaced inside its line (the '#'s or the indentation kept)."""
    found = _translated(content, translate)
    line = lines[number]
    at = line.find(content.strip()) if found else -1
    if at >= 0:
        edits.append((number, number + 1, [line[:at] + found + line[at + len(content.strip()):]]))


def _paragraph(lines, span, content: str, translate: Translate):
    """A paragraph as one translated line with its first line's prefix (list marker, '> ', indentation)."""
    found = _translated(content, translate)
    if not found:
        return None
    first = content.split("\n", 1)[0].strip()
    at = lines[span[0]].find(first)
    if at < 0:
        return None
    return span[0], span[1], [lines[span[0]][:at] + found]


def _table_row(lines, edits, tokens, index: int, translate: Translate) -> int:
    """A table row with each cell's text translated (a '|' inside a translation escaped); returns the row's end."""
    number = tokens[index].map[0]
    line, cursor, changed = lines[number], 0, False
    while tokens[index].type != "tr_close":
        token = tokens[index]
        if token.type == "inline":
            cell = token.content.strip()
            at = line.find(cell, cursor) if cell else -1
            found = _translated(cell, translate) if at >= 0 else None
            if found:
                found = re.sub(r"(?<!\\)\|", r"\\|", found)
                line = line[:at] + found + line[at + len(cell):]
                changed = True
                cursor = at + len(found)
            elif at >= 0:
                cursor = at + len(cell)
        index += 1
    if changed:
        edits.append((number, number + 1, [line]))
    return index


def _directive(lines, token, translate: Translate, language: str):
    """A directive whose body is prose: its title and body translated, its options and fences kept."""
    match = FENCE_INFO.match(token.info.strip())
    if not match:
        return None
    name, argument = match.groups()
    if name not in PROSE_DIRECTIVES and name != "glossary":
        return None
    start, end = token.map
    opening = lines[start]
    closed = end - start >= 2 and lines[end - 1].strip().startswith(token.markup[0] * len(token.markup))
    body_end = end - 1 if closed else end
    indent = opening[:len(opening) - len(opening.lstrip())]
    if name in TITLED_DIRECTIVES and argument.strip():
        title = _translated(argument, translate)
        if title:
            at = opening.rfind(argument.strip())
            opening = opening[:at] + title + opening[at + len(argument.strip()):]
    body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[start + 1:body_end]]
    options, prose = _split_options(body)
    options = [_translated_option(line, translate) for line in options]
    if name == "glossary":
        prose_text = translate_glossary("\n".join(prose), translate, language,
                                        sort=any(line.strip() == ":sorted:" for line in options))
    else:
        prose_text = translate_myst("\n".join(prose), translate, language)
    new_body = options + (prose_text.split("\n") if prose else [])
    return start, body_end, [opening] + [indent + line if line else line for line in new_body]


CAPTION_LINE = re.compile(r"^(\s*)caption:\s*(.*)$")


def _caption_block(lines: list[str], token) -> tuple[int, int, str] | None:
    """Where a code cell's figure caption sits in its `---` options (first line, line after, the caption's text):
    a `caption: |` block (the more-indented lines under it) or a one-line `caption: text`."""
    start, end = token.map
    if end - start < 3 or lines[start + 1].strip() != "---":
        return None
    close = next((i for i in range(start + 2, end) if lines[i].strip() == "---"), None)
    for number in range(start + 2, close or start):
        match = CAPTION_LINE.match(lines[number])
        if not match:
            continue
        indent, value = len(match.group(1)), match.group(2).strip()
        if value and value not in ("|", ">", "|-", ">-"):
            return number, number + 1, value.strip("'\"")
        after = number + 1
        while after < close and (not lines[after].strip() or
                                 len(lines[after]) - len(lines[after].lstrip()) > indent):
            after += 1
        return number, after, "\n".join(line.strip() for line in lines[number + 1:after])
    return None


def figure_captions(text: str) -> list[str]:
    """The message ids of the captions of the figures a MyST notebook's code cells draw (myst-nb's
    `mystnb: figure: caption:` option). Sphinx only sees them in an executed page, so the extraction adds them
    to the page's catalog template from here (tools/book_site.py extract)."""
    lines = text.split("\n")
    found = []
    for token in _parser().parse(text):
        if token.type == "fence" and token.info.strip().startswith("{code-cell}") and token.map:
            block = _caption_block(lines, token)
            if block and message_id(block[2]):
                found.append(message_id(block[2]))
    return found


def _code_cell_caption(lines, token, translate: Translate):
    """A code cell's figure caption translated, as one `caption: |` line under its key; the code as it is."""
    block = _caption_block(lines, token)
    found = _translated(block[2], translate) if block else None
    if not found:
        return None
    start, end, _ = block
    key = lines[start][:lines[start].index("caption:")]
    return start, end, [f"{key}caption: |", f"{key}  {found}"]


def _translated_option(line: str, translate: Translate) -> str:
    """An image's `:alt:` text translated (Sphinx extracts it as a message); other options as they are."""
    match = re.match(r"^(\s*:alt:\s*)(.+?)\s*$", line)
    found = _translated(match.group(2), translate) if match else None
    return match.group(1) + found if found else line


def _split_options(body: list[str]) -> tuple[list[str], list[str]]:
    """A directive's option lines (`:key: value`, or a `---` YAML block) and the prose after them."""
    if body and body[0].strip() == "---":
        close = next((i for i in range(1, len(body)) if body[i].strip() == "---"), None)
        if close is not None:
            return body[:close + 1], body[close + 1:]
    count = 0
    while count < len(body) and OPTION_LINE.match(body[count]):
        count += 1
    return body[:count], body[count:]


# ------------------------------------------------------------------------------------------------ the glossary
def glossary_entries(text: str) -> tuple[list[str], list[tuple[list[str], list[str]]]]:
    """A glossary directive's body as (lines before the first term, [(term lines, definition lines)])."""
    head: list[str] = []
    entries: list[tuple[list[str], list[str]]] = []
    for line in text.split("\n"):
        if line.strip() and not line[0].isspace():
            if entries and not entries[-1][1]:
                entries[-1][0].append(line)  # a second term for the same definition
            else:
                entries.append(([line], []))
        elif entries:
            entries[-1][1].append(line)
        else:
            head.append(line)
    return head, entries


def translate_glossary(text: str, translate: Translate, language: str, sort: bool) -> str:
    """A glossary's terms and definitions translated; sorted by the translated terms when the glossary is sorted."""
    head, entries = glossary_entries(text)
    translated = []
    for terms, definition in entries:
        new_terms = [_translated(term, translate) or term for term in terms]
        trailing = []
        while definition and not definition[-1].strip():
            trailing.append(definition.pop())
        indents = [len(line) - len(line.lstrip()) for line in definition if line.strip()]
        indent = " " * (min(indents) if indents else 2)
        dedented = "\n".join(line[len(indent):] if line.startswith(indent) else line.strip() for line in definition)
        new_definition = [indent + line if line.strip() else line
                          for line in translate_myst(dedented, translate, language).split("\n")]
        translated.append((new_terms, new_definition + trailing))
    if sort:
        # each entry keeps the blank lines after it; the last one may have none, so every entry gets one
        translated = [(terms, [line for line in definition if line.strip()] + [""]) for terms, definition in translated]
        translated.sort(key=lambda entry: alphabetical_key(entry[0][0], language))
        if translated and entries and not entries[-1][1][-1:] == [""]:
            translated[-1][1].pop()
    return "\n".join(head + [line for terms, definition in translated for line in terms + definition])


# ------------------------------------------------------------------------------------------------ alphabetical order
POLISH_ALPHABET = "aąbcćdeęfghijklłmnńoóprqsśtuvwxyzźż"


def _folded(text: str) -> str:
    """Lower case without accents: the order of Italian (and English) word lists, where accents never count first."""
    return "".join(ch for ch in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(ch))


def _polish_key(text: str) -> tuple:
    """Polish order: ą after a, ć after c, ę after e, ł after l, ń after n, ó after o, ś after s, ź and ż after z."""
    key = []
    for character in text.casefold():
        if character in POLISH_ALPHABET:
            key.append((1, POLISH_ALPHABET.index(character), 0))
        elif character.isalpha():  # a letter from another alphabet: next to its base letter
            base = _folded(character)[:1]
            key.append((1, POLISH_ALPHABET.index(base), 1) if base and base in POLISH_ALPHABET else (2, ord(character), 0))
        else:  # spaces, digits and punctuation before the letters, as in a dictionary
            key.append((0, ord(character), 0))
    return tuple(key)


def _pinyin_key(text: str) -> tuple:
    """Chinese order: by pinyin syllable, then by tone, then by the characters (a dictionary's order)."""
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    letters = tuple(_folded(re.sub(r"\d", "", syllable)).strip() for syllable in syllables)
    tones = tuple(re.sub(r"\D", "", syllable) for syllable in syllables)
    return letters, tones


def alphabetical_key(text: str, language: str) -> tuple:
    """A sort key that puts `text` where the language's dictionaries put it (case counts only to break a tie)."""
    if language == "pl":
        primary = _polish_key(text)
    elif language.startswith("zh"):
        primary = _pinyin_key(text)
    else:
        primary = (_folded(text),)
    return primary, _folded(text), text


# ------------------------------------------------------------------------------------------------ the reader's language
def language_cell_source(language: str) -> str:
    """The code a translated download runs first, so that its figures and tables speak the page's language."""
    from simulations.i18n import gettext

    comment = [gettext(line, "site", language=language) for line in LANGUAGE_CELL_COMMENT]
    return "".join(f"# {line}\n" for line in comment) + f"from simulations.i18n import set_language\nset_language({language!r})"


def language_code_cell_myst(language: str) -> str:
    """The same cell in a MyST notebook's source (the `.md` download)."""
    return (f"```{{code-cell}} ipython3\n:tags: [{LANGUAGE_CELL_TAG}]\n\n{language_cell_source(language)}\n```\n")


def first_code_cell_line(text: str) -> int | None:
    """The line of a MyST notebook's first `{code-cell}` fence, or None."""
    for token in _parser().parse(text):
        if token.type == "fence" and token.info.strip().startswith("{code-cell}") and token.map:
            return token.map[0]
    return None


def translate_notebook_source(text: str, translate: Translate, language: str) -> str:
    """A page's `.md` source in `language`: prose translated, code as it is, and the language cell before the
    first code cell (a page without code gets none)."""
    translated = translate_myst(text, translate, language)
    first = first_code_cell_line(translated)
    if first is None:
        return translated
    lines = translated.split("\n")
    return "\n".join(lines[:first] + language_code_cell_myst(language).split("\n") + lines[first:])


def _cell_source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def translate_notebook(notebook: dict, translate: Translate, language: str) -> dict:
    """A page's notebook in `language` (a new dict): Markdown cells translated, a numbered figure's caption (in a code
    cell's metadata) translated, code as it is, and the language cell before the first code cell."""
    import copy

    cells = []
    for cell in notebook["cells"]:
        cell = copy.deepcopy(cell)
        if cell.get("cell_type") == "markdown":
            cell["source"] = translate_myst(_cell_source(cell), translate, language)
        elif cell.get("cell_type") == "code":
            figure = ((cell.get("metadata") or {}).get("mystnb") or {}).get("figure") or {}
            if figure.get("caption"):
                figure["caption"] = translate_myst(str(figure["caption"]), translate, language)
            if not any(LANGUAGE_CELL_TAG in ((c.get("metadata") or {}).get("tags") or []) for c in cells):
                cells.append({"cell_type": "code", "execution_count": None, "outputs": [],
                              "metadata": {"tags": [LANGUAGE_CELL_TAG]}, "source": language_cell_source(language)})
        cells.append(cell)
    return {**notebook, "cells": cells}
