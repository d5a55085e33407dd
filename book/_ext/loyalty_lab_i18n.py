"""The book in every language: a language switcher on every page, glue numbers inside translated paragraphs,
downloads in the page's language and the glossary in the language's alphabetical order.

- The switcher: a line at the top of every page naming each language in its own name, linking to the SAME page in
  that language. The site keeps English at its root and each translation in a folder named after its code
  (`it/`, `pl/`, `zh_CN/`, with the same page names), so a relative link reaches it on a server and on file:// alike.
- Glue: Sphinx parses a translated paragraph as a small document of its own, which has none of the notebook's glue
  data, so `{glue:text}` numbers would vanish from every translated page ("No key ... found in glue data"). Those
  small documents read the page's glue data from the file myst-nb saves beside the build. Glued numbers take the
  language's decimal sign and grouping (1.234,5 in Italian, 1 234,5 in Polish).
- Italian articles before glued numbers: "del {glue:text}`key`" reads "dell'8%" when the number is 8%
  (`elide_italian_articles`).
- The site's own words: the switcher, the search box and the footer come from book/locales/<language>/LC_MESSAGES/site.po.
  The themes' words come translated with the themes, but for the pydata theme in Polish, which ships no catalog:
  book/locales/pl/LC_MESSAGES/sphinx.po supplies it (Sphinx reads the `sphinx` domain from the book's locale_dirs too).
- Tooltips and labels for screen readers that no catalog translates: Sphinx's "Link to this heading" (its Italian,
  Polish and Chinese catalogs lack the newer messages), the themes' words written into their templates without `_()`
  ("Toggle primary sidebar", the navigation's "Main") and sphinx-togglebutton's "Toggle hidden content" (in its
  script). A translated build writes them from the site catalog (`THEME_WORDS`, `translate_theme_words`).
- Downloads in the page's language: the `.md` source Sphinx copies to `_sources/` is rewritten, when the build has
  finished, from the page's catalog (book/_ext/translated_source.py: prose translated, code as it is, a first code
  cell `set_language(...)` so the notebook's figures speak the language); the `.ipynb` is translated as it is written
  (loyalty_lab_html.offer_notebook_download). No translated source is kept in the repository.
- The glossary in the language's alphabetical order: Sphinx sorts a `:sorted:` glossary's translated terms by their
  Unicode code points (Polish ł and ś after z, ć after cz; Chinese characters in code-point order, which no reader
  knows), so a transform after Sphinx's sorts it again by the language's order (Italian with accents folded, Polish
  with its alphabet's ą, ć, ę, ł, ń, ó, ś, ź, ż, Chinese by pinyin with pypinyin, then by tone).
"""
from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

from docutils import nodes
from myst_nb.ext.glue.utils import RetrievalError, VariableOutput
from sphinx.transforms import SphinxTransform

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the book's _ext folder (translated_source)

from simulations.i18n import LANGUAGES, gettext  # noqa: E402

_SAVED_GLUE: dict[tuple, dict] = {}


def site_language(config) -> str:
    return config.language if config.language in LANGUAGES else "en"


def language_link(pagename: str, here: str, there: str) -> str:
    """The relative address of `pagename` in language `there`, from the same page in language `here`."""
    up = "../" * (pagename.count("/") + (here != "en"))
    folder = "" if there == "en" else f"{there}/"
    return f"{up}{folder}{pagename}.html"


def switcher_html(pagename: str, here: str, languages) -> str:
    links = []
    for code in languages:
        name = html.escape(LANGUAGES[code])
        if code == here:
            links.append(f'<strong lang="{code.replace("_", "-")}" aria-current="true">{name}</strong>')
        else:
            href = html.escape(language_link(pagename, here, code))
            links.append(f'<a lang="{code.replace("_", "-")}" hreflang="{code.replace("_", "-")}" '
                         f'href="{href}">{name}</a>')
    label = html.escape(gettext("Language", "site", language=here))
    return (f'<nav class="loyalty-lab-languages" aria-label="{label}">{label}: '
            + " · ".join(links) + "</nav>\n")


def add_switcher(app, pagename, templatename, context, doctree) -> None:
    if doctree is None or "body" not in context:
        return
    context["body"] = switcher_html(pagename, site_language(app.config), app.config.loyalty_lab_languages) \
        + context["body"]


def saved_glue(env) -> dict:
    """The page's glue data, as myst-nb saved it beside the build when it executed the page (key -> output)."""
    path = Path(env.app.outdir).parent / "jupyter_execute" / f"{env.docname}.glue.json"
    key = (str(path), path.stat().st_mtime if path.exists() else None)
    if key not in _SAVED_GLUE:
        _SAVED_GLUE.clear()
        _SAVED_GLUE[key] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return _SAVED_GLUE[key]


def _with_saved_glue(retrieve):
    def retrieve_glue_data(document, key):
        try:
            return retrieve(document, key)
        except RetrievalError:
            # a translated paragraph is parsed as a small document of its own, without the notebook's glue data
            env = getattr(document.settings, "env", None)
            glue = saved_glue(env) if env is not None else {}
            if key not in glue:
                raise
            return VariableOutput(data=glue[key]["data"], metadata=glue[key].get("metadata", {}),
                                  nb_renderer=None, vtype="glue")

    return retrieve_glue_data


NUMBER = re.compile(r"^-?\d{1,3}(,\d{3})*(\.\d+)?%?$|^-?\d+(\.\d+)?%?$")
SEPARATORS = {"it": {",": ".", ".": ","}, "pl": {",": "\u00a0", ".": ","}}  # zh_CN writes numbers as English does
_language = {"code": "en"}


def localised_number(text: str, language: str) -> str:
    """A number as Python formatted it (1,234.5) in the language's notation (1.234,5 / 1 234,5); other text unchanged."""
    swap = SEPARATORS.get(language)
    if not swap or not NUMBER.match(text.strip()):
        return text
    return "".join(swap.get(character, character) for character in text)


def _localised(format_plain_text):
    def format_in_language(text, fmt_spec):
        return localised_number(format_plain_text(text, fmt_spec), _language["code"])

    return format_in_language


def patch_glue() -> None:
    from myst_nb.ext.glue import directives, roles, utils

    if getattr(roles.format_plain_text, "loyalty_lab", False):
        return  # patched already (a second Sphinx application in this process)
    patched = _with_saved_glue(utils.retrieve_glue_data)
    for module in (directives, roles):
        module.retrieve_glue_data = patched
    roles.format_plain_text = _localised(roles.format_plain_text)
    roles.format_plain_text.loyalty_lab = True


#: Italian elides the article before a number read with a vowel ("dell'8%", "l'11%"), which a translator writing
#: "del {glue:text}`key`" cannot know: the number is computed at build.
ITALIAN_ELISIONS = {"il": "l’", "del": "dell’", "al": "all’", "dal": "dall’", "nel": "nell’", "sul": "sull’"}
ITALIAN_ARTICLE_BEFORE = re.compile(r"(?<!\w)(%s) $" % "|".join(ITALIAN_ELISIONS))
ITALIAN_UNELIDED = {elided[:-1]: article for article, elided in ITALIAN_ELISIONS.items()}  # "dell" -> "del"
ITALIAN_ELIDED_BEFORE = re.compile(r"(?<!\w)(%s)['’]$" % "|".join(ITALIAN_UNELIDED))


def read_with_a_vowel_in_italian(number: str) -> bool:
    """8 (otto), 80-89, 800-899 ... (ottanta, ottocento), 1 (uno, also 1,5), 11 (undici, also 11.000 undicimila)."""
    return bool(re.match(r"8|1(?![\d.])|11(?!\d)", number))


def elide_italian_articles(app, doctree) -> None:
    """The article before each glued number as Italian reads the number: "del 8%" becomes "dell'8%", and "dell'58%"
    (a translation elided before a number that has since changed) becomes "del 58%"."""
    if site_language(app.config) != "it":
        return
    for pasted in list(doctree.findall(nodes.inline)):
        if "pasted-text" not in pasted.get("classes", []) or pasted.parent is None:
            continue
        at = pasted.parent.index(pasted)
        before = pasted.parent[at - 1] if at else None
        if isinstance(before, nodes.Text):
            text = italian_article_for(str(before), pasted.astext())
            if text != str(before):
                pasted.parent[at - 1] = nodes.Text(text)  # (not replace(): it finds the first Text equal to this one)


def italian_article_for(before: str, number: str) -> str:
    """`before` (the text up to a number) ending in the article that the number's first sound takes."""
    if read_with_a_vowel_in_italian(number):
        match = ITALIAN_ARTICLE_BEFORE.search(before)
        return before[:match.start()] + ITALIAN_ELISIONS[match.group(1)] if match else before
    match = ITALIAN_ELIDED_BEFORE.search(before)
    return before[:match.start()] + ITALIAN_UNELIDED[match.group(1)] + " " if match else before


def translate_site_words(app, config) -> None:
    """The search box's and the footer's words, from the book's `site` catalog, in a translated build."""
    language = site_language(config)
    _language["code"] = language
    if language == "en":
        return
    options = dict(config.html_theme_options or {})
    options["search_bar_text"] = gettext("Search this book...", "site", language=language)
    options["extra_footer"] = gettext(options.get("extra_footer", ""), "site", language=language)
    config.html_theme_options = options


#: Words a page shows as a tooltip or reads out to a screen reader that neither Sphinx's nor the themes' catalogs
#: translate for every language (site catalog, book/locales/<language>/LC_MESSAGES/site.po).
THEME_WORDS = ("Link to this heading", "Link to this image", "Link to this table", "Link to this code",
               "Link to this definition", "Link to this equation", "Color mode", "System Settings",
               "Toggle primary sidebar", "Toggle secondary sidebar", "Main", "Page", "Toggle hidden content")
THEME_ATTRIBUTES = ("title", "aria-label", "data-bs-title")


def theme_word_replacements(language: str) -> dict[str, str]:
    """`title="Main"` -> `title="Principale"`, for each word and attribute (an attribute already translated by a
    catalog never matches)."""
    found = {}
    for word in THEME_WORDS:
        translated = html.escape(gettext(word, "site", language=language))
        for attribute in THEME_ATTRIBUTES:
            found[f'{attribute}="{word}"'] = f'{attribute}="{translated}"'
    return found


def replace_all(text: str, replacements: dict[str, str]) -> str:
    for english, translated in replacements.items():
        text = text.replace(english, translated)
    return text


def translate_theme_words(app) -> None:
    """Every page a translated build writes passes through its templates' `render`: the theme words are translated
    there, in the finished page (they come from templates without `_()` and from Sphinx's writer)."""
    language = site_language(app.config)
    templates = getattr(app.builder, "templates", None)
    if language == "en" or app.builder.format != "html" or templates is None:
        return
    replacements = theme_word_replacements(language)
    render = templates.render

    def render_in_language(template, context):
        return replace_all(render(template, context), replacements)

    templates.render = render_in_language


PHONE_NOTE = "On this screen the panels stand one below the other, in the caption's order from left to right."
WORDS_CSS = "loyalty_lab_words.css"


def words_css(language: str) -> str:
    """The stylesheet of the words CSS writes on a page: the note under a phone figure whose panels stood side by
    side (book/_static/loyalty_lab.css styles it; loyalty_lab_html marks the figures)."""
    from loyalty_lab_html import STACKED_CLASS

    note = gettext(PHONE_NOTE, "site", language=language).replace("\\", "\\\\").replace('"', '\\"')
    return ("@media (max-width: 576px) {\n"
            f'  figure:has(img.{STACKED_CLASS}) figcaption::after {{ content: "{note}"; }}\n'
            "}\n")


def write_words_css(app) -> None:
    """Written before the pages, so that each page's link carries the file's checksum (a browser's cache refreshes)."""
    if app.builder.format != "html":
        return
    from loyalty_lab_html import _write_atomically

    _write_atomically(Path(app.outdir) / "_static" / WORDS_CSS, words_css(site_language(app.config)))


def translate_toggle_script(app, exception) -> None:
    """sphinx-togglebutton writes its button's label from its script: the built copy gets the language's words."""
    language = site_language(app.config)
    script = Path(app.outdir) / "_static" / "togglebutton.js"
    if exception is not None or language == "en" or not script.exists():
        return
    from loyalty_lab_html import _write_atomically

    text = script.read_text(encoding="utf-8")
    translated = replace_all(text, theme_word_replacements(language))
    if translated != text:
        _write_atomically(script, translated)


def page_translations(language: str, docname: str) -> dict[str, str]:
    """The finished messages of one page's catalog (English -> translation)."""
    from babel.messages.pofile import read_po

    path = ROOT / "book" / "locales" / language / "LC_MESSAGES" / f"{docname}.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and m.string and not m.fuzzy}


def translate_toctree_captions(app, doctree) -> None:
    """The parts' captions of the table of contents ("Chapters and their labs"): sphinx-external-toc inserts the
    toctrees after Sphinx has translated the page, so their captions are translated here, from the same catalog."""
    from sphinx import addnodes

    language = site_language(app.config)
    toctrees = [node for node in doctree.findall(addnodes.toctree) if node.get("caption")]
    if language == "en" or not toctrees:
        return
    translations = page_translations(language, app.env.docname)
    for node in toctrees:
        node["caption"] = translations.get(node["caption"], node["caption"])


def translate_downloads(app, exception) -> None:
    """The `.md` sources a translated site offers for download (`_sources/<page>.md`, copied by Sphinx in English),
    rewritten in the page's language from its catalog: prose translated, code as it is, and a first code cell that
    makes the notebook draw its figures in that language (book/_ext/translated_source.py). The `.ipynb` downloads are
    translated as they are written (loyalty_lab_html.offer_notebook_download)."""
    language = site_language(app.config)
    if exception is not None or language == "en" or app.builder.format != "html":
        return
    from loyalty_lab_html import _write_atomically
    from translated_source import translate_notebook_source

    for docname in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(docname))
        target = Path(app.outdir) / "_sources" / f"{docname}{source.suffix}"
        if source.suffix != ".md" or not target.exists():
            continue
        english = source.read_text(encoding="utf-8")
        _write_atomically(target, translate_notebook_source(english, page_translations(language, docname).get, language))


class SortTranslatedGlossary(SphinxTransform):
    """A sorted glossary in its translated terms' alphabetical order: Italian with accents folded, Polish with ą after
    a and ł after l, Chinese by pinyin. Sphinx's own sort (sphinx.transforms.GlossarySorter) orders the translated
    terms by their Unicode code points, which puts Polish ł and ś after z and Chinese in no order a reader knows."""

    default_priority = 501  # after Sphinx's translation (Locale, 20) and its code-point sort (GlossarySorter, 500)

    def apply(self, **kwargs) -> None:
        from sphinx import addnodes
        from translated_source import alphabetical_key

        language = site_language(self.config)
        if language == "en":
            return
        for glossary in self.document.findall(addnodes.glossary):
            if not glossary.get("sorted"):
                continue
            for listing in glossary.findall(nodes.definition_list):
                items = [child for child in listing.children if isinstance(child, nodes.definition_list_item)]
                items.sort(key=lambda item: alphabetical_key(glossary_headword(item), language))
                listing.children = []
                listing.extend(items)


def glossary_headword(item) -> str:
    """The first term of a glossary entry, as the page shows it."""
    return next(iter(item.findall(nodes.term))).astext()


def setup(app):
    app.add_config_value("loyalty_lab_languages", list(LANGUAGES), "html")
    patch_glue()
    app.connect("config-inited", translate_site_words)
    app.connect("html-page-context", add_switcher)
    app.connect("doctree-read", translate_toctree_captions)
    app.connect("doctree-read", elide_italian_articles)
    app.connect("build-finished", translate_downloads)
    app.connect("builder-inited", translate_theme_words)
    app.connect("build-finished", translate_toggle_script)
    app.connect("builder-inited", write_words_css)
    app.add_css_file(WORDS_CSS)
    app.add_transform(SortTranslatedGlossary)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
