"""A book page's executed notebook made into a notebook that runs anywhere (the `.ipynb` a reader downloads).

The book's pages are MyST notebooks: their Markdown carries roles and directives that only the book's build
understands ({glue:text}`...`, {numref}`...`, {cite:t}`...`, ```{admonition} ...```, gated exercises), and their
code imports `myst_nb` (glue) and holds the build's checks. A reader who downloads a page gets a notebook for
plain Jupyter, with only the course package installed:

- every role is replaced by what the page shows: the glued number written in (formatted as on the page), the
  figure's number ("Fig. 3.2"), the cited authors and year, the linked page's title, the term's text;
- every directive becomes plain Markdown: admonitions and notes as quoted blocks with a bold title, exercises and
  solutions as bold headings with the page's numbers, figures as an image attached to the cell, and a caption
  line ("Fig. 3.2: ...") after each code cell that draws a numbered figure;
- label targets `(name)=` and MyST comments `% ...` are dropped;
- `from myst_nb import glue` becomes `from simulations.notebook import glue` (a no-op outside the book build), so
  no import needs more than the course package and Jupyter;
- build checks are dropped and the asserts of hidden cells turned into `pass` (`loyalty_lab_html.without_build_checks`).

Anything this module does not know raises `UnknownMarkup` naming the page and the markup, so a new directive
fails the book build instead of reaching a reader as raw markup. The functions here need no Sphinx: the build
passes a `PageFacts` with what the Sphinx environment knows (book/_ext/loyalty_lab_html.py), and the tests
pass their own.
"""

from __future__ import annotations

import base64
import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

GLUE_IMPORT = re.compile(r"^(\s*)from myst_nb import glue\b.*$", re.M)
PLAIN_GLUE_IMPORT = r"\1from simulations.notebook import glue  # the book's glue; in a notebook it only shows what display=True asks"
ROLE = re.compile(r"\{([a-zA-Z][\w:-]*)\}`([^`]*)`")
FENCE_OPEN = re.compile(r"^(\s*)(`{3,}|:{3,})\{([\w-]+)\}\s*(.*?)\s*$")
TARGET_LINE = re.compile(r"^\s*\(([^()\s]+)\)=\s*$")
COMMENT_LINE = re.compile(r"^\s*%")
ADMONITIONS = {"note": "Note", "tip": "Tip", "hint": "Hint", "important": "Important", "warning": "Warning",
               "caution": "Caution", "attention": "Attention", "danger": "Danger", "error": "Error", "seealso": "See also"}


class UnknownMarkup(ValueError):
    """A role or directive the download cannot render as plain Markdown."""


@dataclass
class PageFacts:
    """What the book knows about a page and its neighbours, as plain functions (the build reads them from Sphinx).

    glue: name -> the glued value's text/plain, as the executed notebook recorded it
    number_of: label -> ("Fig.", "3.2") for a numbered figure or ("Exercise", "3.1") for an exercise, or None
    page_title: docname (relative to the page) -> ("Bonding", "5") (title and section number, "" when unnumbered)
    section_title: label -> the title of the section or figure it names, or None
    cite: (keys, "t" or "p") -> "Zeithaml et al. (2001)" / "(Zeithaml et al. 2001; Gupta et al. 2004)"
    image: path as written in the page -> the image file, or None
    practice_link: challenge id -> the practice server's page for it (the book's setting), or None without a server
    localise: a glued number as the page's language writes it (1.234,5 in Italian); unchanged in English
    word: one of the download's own words ("Note", "Exercise", "Solution to", "Fig.", "chapter {number}") in the
        page's language; unchanged in English
    """

    page: str
    glue: dict = field(default_factory=dict)
    number_of: Callable[[str], tuple[str, str] | None] = lambda label: None
    page_title: Callable[[str], tuple[str, str] | None] = lambda docname: None
    section_title: Callable[[str], str | None] = lambda label: None
    cite: Callable[[list[str], str], str] = lambda keys, kind: ", ".join(keys)
    image: Callable[[str], Path | None] = lambda uri: None
    practice_link: Callable[[str], str | None] = lambda challenge: None
    localise: Callable[[str], str] = lambda number: number  # a glued number in the page's language's notation
    word: Callable[[str], str] = lambda english: english  # the download's own words ("Note", "Fig.") in its language

    def unknown(self, what: str) -> UnknownMarkup:
        return UnknownMarkup(f"{self.page}: the download cannot render {what} as plain Markdown "
                             "(teach book/_ext/plain_notebook.py, or write it in plain Markdown)")


# ------------------------------------------------------------------------------------------ glued values
def glued_values(notebook: dict) -> dict:
    """name -> text/plain of every value the notebook glued (myst-nb's `glue` records them as display outputs)."""
    values = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            record = (output.get("metadata") or {}).get("scrapbook")
            if not record:
                continue
            prefix = record.get("mime_prefix", "")
            data = {key[len(prefix):] if key.startswith(prefix) else key: value
                    for key, value in (output.get("data") or {}).items()}
            if "text/plain" in data:
                text = data["text/plain"]
                values[record["name"]] = "".join(text) if isinstance(text, list) else text
    return values


def without_glue_records(outputs: list) -> list:
    """A code cell's outputs without glue's records (they show nothing outside the book and only weigh the file)."""
    return [output for output in outputs or [] if "scrapbook" not in (output.get("metadata") or {})
            or not (output.get("metadata") or {})["scrapbook"].get("mime_prefix")]


def format_glued(text: str, spec: str) -> str:
    """A glued value as `{glue:text}` shows it (the same rules as myst-nb's format_plain_text)."""
    from ast import literal_eval

    try:
        value = literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if spec == "":
        return str(value)
    kind = spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, spec)


# ------------------------------------------------------------------------------------------ roles
def _text_and_target(content: str) -> tuple[str | None, str]:
    """`text <target>` -> (text, target); `target` -> (None, target)."""
    match = re.fullmatch(r"\s*(.*?)\s*<([^<>]+)>\s*", content, re.S)
    return (match.group(1), match.group(2).strip()) if match and match.group(1) else (None, content.strip())


def render_role(name: str, content: str, facts: PageFacts) -> str:
    """One role as the page shows it, in plain text or Markdown."""
    if name in ("glue", "glue:text"):
        key, _, spec = content.rpartition(":") if ":" in content else (content, "", "")
        key = key or content
        if key not in facts.glue:
            raise facts.unknown(f"{{{name}}}`{content}` (no value glued under {key!r})")
        return facts.localise(format_glued(facts.glue[key], spec))
    if name == "term":
        text, target = _text_and_target(content)
        return text or target
    if name in ("doc", "ref"):
        text, target = _text_and_target(content)
        if text:
            return text
        if name == "doc":
            found = facts.page_title(target)
            if not found:
                raise facts.unknown(f"{{doc}}`{content}` (no such page)")
            title, number = found
            kind = "chapter {number}" if "." not in number else "section {number}"
            return f"*{title}* ({facts.word(kind).format(number=number)})" if number else f"*{title}*"
        title = facts.section_title(target)
        if not title:
            raise facts.unknown(f"{{ref}}`{content}` (no such label)")
        return title
    if name == "numref":
        text, target = _text_and_target(content)
        found = facts.number_of(target)
        if not found:
            raise facts.unknown(f"{{numref}}`{content}` (no number for {target!r})")
        kind, number = found
        if text:
            return text.replace("%s", number).replace("{number}", number)
        return f"{facts.word(kind)} {number}"
    if name in ("cite", "cite:p", "cite:t", "cite:ps", "cite:ts"):
        keys = [key.strip() for key in content.split(",") if key.strip()]
        return facts.cite(keys, "t" if name.startswith("cite:t") else "p")
    if name == "math":
        return f"${content}$"
    raise facts.unknown(f"the role {{{name}}}")


def render_roles(text: str, facts: PageFacts) -> str:
    """Every role in a Markdown text replaced by what the page shows."""
    return ROLE.sub(lambda m: render_role(m.group(1), m.group(2), facts), text)


# ------------------------------------------------------------------------------------------ directives
@dataclass
class Directive:
    name: str
    argument: str
    options: dict
    body: list[str]
    indent: str


def _read_directive(lines: list[str], start: int) -> tuple[Directive, int]:
    """The directive opening at `lines[start]` and the index after its closing fence."""
    indent, fence, name, argument = FENCE_OPEN.match(lines[start]).groups()
    closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    end = start + 1
    depth = 0
    while end < len(lines):
        line = lines[end]
        inner = FENCE_OPEN.match(line)
        if inner and inner.group(2)[0] == fence[0] and len(inner.group(2)) == len(fence):
            depth += 1
        elif closing.match(line) and len(line.strip()) == len(fence):
            if depth == 0:
                break
            depth -= 1
        end += 1
    body = [line[len(indent):] if line.startswith(indent) else line for line in lines[start + 1:end]]
    options = {}
    if body and body[0].strip() == "---":  # YAML options block
        close = next((i for i in range(1, len(body)) if body[i].strip() == "---"), None)
        if close is not None:
            import yaml

            options = yaml.safe_load("\n".join(body[1:close])) or {}
            body = body[close + 1:]
    while body and re.match(r"^:[\w-]+:", body[0]):
        key, _, value = body[0][1:].partition(":")
        options[key.strip()] = value.strip()
        body = body[1:]
    return Directive(name, argument, options, body, indent), end + 1


def _quoted(title: str, body: str, indent: str) -> list[str]:
    """A titled block quote: how a Markdown reader shows an admonition."""
    lines = [f"**{title}**" if title else ""] + ([""] if title and body.strip() else []) + body.strip("\n").splitlines()
    return [f"{indent}> {line}".rstrip() for line in lines]


def render_directive(directive: Directive, facts: PageFacts, attachments: dict) -> list[str]:
    """A directive as plain Markdown lines."""
    body = plain_markdown_text("\n".join(directive.body), facts, attachments)
    name, indent = directive.name, directive.indent
    if name == "admonition":
        return _quoted(render_roles(directive.argument, facts), body, indent)
    if name in ADMONITIONS:
        title = facts.word(ADMONITIONS[name])
        return _quoted(title, "\n".join(filter(None, (render_roles(directive.argument, facts), body))), indent)
    if name in ("dropdown",):
        return _quoted(render_roles(directive.argument, facts) or facts.word("Details"), body, indent)
    if name in ("exercise", "exercise-start"):
        heading = _numbered(facts, directive.options.get("label"), "Exercise")
        title = render_roles(directive.argument, facts)
        lines = [f"{indent}**{heading}**" + (f" ({title})" if title else "")]
        return lines + (["", *[indent + line for line in body.splitlines()]] if body.strip() else [])
    if name in ("solution", "solution-start"):
        heading = _numbered(facts, directive.argument.strip(), "Exercise")
        lines = [f"{indent}**{facts.word('Solution to')} {heading}**"]
        return lines + (["", *[indent + line for line in body.splitlines()]] if body.strip() else [])
    if name in ("exercise-end", "solution-end"):
        return []
    if name == "figure":
        return _figure(directive, body, facts, attachments)
    if name == "practice-link":  # the notebook runs the lab itself: only a server's link is worth keeping
        address = facts.practice_link(directive.argument.strip())
        return [f"{indent}[{facts.word('Grade this strategy in your browser')}]({address})"] if address else []
    if name == "math":
        return [f"{indent}$$", *[indent + line for line in directive.body], f"{indent}$$"]
    raise facts.unknown(f"the directive {{{name}}}")


def _numbered(facts: PageFacts, label: str | None, kind: str) -> str:
    found = facts.number_of(label) if label else None
    return f"{facts.word(found[0])} {found[1]}" if found else facts.word(kind)


def _figure(directive: Directive, caption: str, facts: PageFacts, attachments: dict) -> list[str]:
    uri = directive.argument.strip()
    found = facts.number_of(directive.options.get("name", "")) if directive.options.get("name") else None
    alt = str(directive.options.get("alt", caption.strip().splitlines()[0] if caption.strip() else "figure"))
    path = facts.image(uri)
    if path is None:
        raise facts.unknown(f"the figure {uri!r} (image file not found)")
    mime = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml",
            ".gif": "image/gif"}.get(path.suffix.lower(), "application/octet-stream")
    attachments[path.name] = {mime: base64.b64encode(path.read_bytes()).decode("ascii")}
    number = f"{facts.word(found[0])} {found[1]}: " if found else ""
    return [f"{directive.indent}![{alt}](attachment:{path.name})", "", f"{directive.indent}*{number}{caption.strip()}*"]


# ------------------------------------------------------------------------------------------ a Markdown cell
def plain_markdown_text(text: str, facts: PageFacts, attachments: dict | None = None) -> str:
    """MyST Markdown as plain (CommonMark/Jupyter) Markdown: directives rendered, roles replaced, targets dropped.

    Prose is gathered into runs and its roles replaced run by run (a role may wrap onto the next line); code blocks
    and rendered directives are kept as they are.
    """
    attachments = {} if attachments is None else attachments
    lines, index = text.splitlines(), 0
    done: list[str] = []      # finished lines
    prose: list[str] = []     # prose waiting for its roles to be replaced
    in_code = None

    def flush():
        if prose:
            done.extend(render_roles("\n".join(prose), facts).split("\n"))
            prose.clear()

    while index < len(lines):
        line = lines[index]
        fence = re.match(r"^\s*(`{3,}|~{3,})(.*)$", line)
        if in_code:  # inside a plain code block: copied as it is
            done.append(line)
            if fence and fence.group(1)[0] == in_code[0] and len(fence.group(1)) >= len(in_code) and not fence.group(2).strip():
                in_code = None
        elif FENCE_OPEN.match(line):
            flush()
            directive, index = _read_directive(lines, index)
            done.extend(render_directive(directive, facts, attachments))
            continue
        elif fence:
            flush()
            in_code = fence.group(1)
            done.append(line)
        elif not (TARGET_LINE.match(line) or COMMENT_LINE.match(line)):
            prose.append(line)
        index += 1
    flush()
    return "\n".join(done)


# ------------------------------------------------------------------------------------------ the notebook
def figure_caption_cell(cell: dict, facts: PageFacts) -> dict | None:
    """A Markdown cell with the caption of the numbered figure a code cell draws (myst-nb's `figure` option)."""
    figure = ((cell.get("metadata") or {}).get("mystnb") or {}).get("figure") or {}
    caption = figure.get("caption")
    if not caption:
        return None
    found = facts.number_of(figure["name"]) if figure.get("name") else None
    number = f"{facts.word(found[0])} {found[1]}: " if found else ""
    text = " ".join(plain_markdown_text(str(caption), facts).split())
    return {"cell_type": "markdown", "metadata": {"tags": ["figure-caption"]}, "source": f"*{number}{text}*"}


def source_text(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def plain_notebook(notebook: dict, facts: PageFacts) -> dict:
    """The notebook a reader downloads: plain Markdown, numbers written in, imports the course package provides.

    `notebook` is the page's executed notebook with its build checks already left out.
    """
    facts.glue = {**glued_values(notebook), **facts.glue}
    cells = []
    for cell in notebook["cells"]:
        cell = copy.deepcopy(cell)
        if cell.get("cell_type") == "markdown":
            attachments = dict(cell.get("attachments") or {})
            cell["source"] = plain_markdown_text(source_text(cell), facts, attachments)
            if attachments:
                cell["attachments"] = attachments
            cells.append(cell)
            continue
        if cell.get("cell_type") == "code":
            cell["source"] = GLUE_IMPORT.sub(PLAIN_GLUE_IMPORT, source_text(cell))
            cell["outputs"] = without_glue_records(cell.get("outputs"))
            cells.append(cell)
            caption = figure_caption_cell(cell, facts)
            if caption:
                cells.append(caption)
            continue
        cells.append(cell)
    return {**notebook, "cells": cells}


def leftover_markup(notebook: dict) -> list[str]:
    """MyST markup still in a notebook's Markdown cells (roles, directive fences, targets): empty for a plain one."""
    found = []
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "markdown":
            continue
        text = re.sub(r"(`+)(?!\{).*?\1", "", source_text(cell), flags=re.S)  # inline code may show markup on purpose
        text = re.sub(r"^(\s*)(`{3,}|~{3,})[^\n]*\n.*?^\1\2\s*$", "", text, flags=re.S | re.M)  # so may code blocks
        found += [m.group(0) for m in ROLE.finditer(text)]
        found += [line for line in text.splitlines() if FENCE_OPEN.match(line) or TARGET_LINE.match(line)]
    return found
