"""The model reference appendix documents every public rule of simulations.rules, and cannot drift from it.

The page generates its per-rule entries at build time with `inspect`. These tests execute the page's own
code (read with jupytext, run in a fresh kernel) and check that the output names every public function
with its signature and docstring; the built HTML page is checked too (with the one shared book build).
"""

from __future__ import annotations

import html
import inspect
import re

import pytest

from conftest import BOOK_GROUP, ROOT
from simulations import rules

PAGE = ROOT / "book" / "appendix" / "model_reference.md"
NETLOGO_HEADINGS = ("What is it?", "How it works", "How to use it", "Things to notice", "Things to try",
                    "Extending the model", "Related models", "Credits and references")


def public_rules():
    return sorted(name for name, f in inspect.getmembers(rules, inspect.isfunction)
                  if f.__module__ == rules.__name__ and not name.startswith("_"))


@pytest.fixture(scope="module")
def executed_page_text() -> str:
    """Every text and markdown output of the page, after running it in a fresh kernel from its own folder."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(PAGE)
    NotebookClient(notebook, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(PAGE.parent)}}).execute()
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts.append(data.get("text/markdown", "") + data.get("text/plain", "") + output.get("text", ""))
    return "\n".join(texts)


def test_there_are_rules_to_document():
    assert len(public_rules()) >= 20


def test_page_has_netlogo_info_headings_in_order():
    text = PAGE.read_text(encoding="utf-8")
    found = [h for h in re.findall(r"^## (.+)$", text, re.M) if h in NETLOGO_HEADINGS]
    assert found == list(NETLOGO_HEADINGS)


def test_page_generates_its_entries_from_the_module_not_by_hand():
    text = PAGE.read_text(encoding="utf-8")
    assert "inspect.getmembers(rules" in text and "inspect.signature" in text
    # an entry is a bold or heading signature; mentioning a rule in prose (`market_openness(...)`) is fine
    hand_written = [name for name in public_rules() if re.search(rf"(\*\*`|^#+ `){name}\(", text, re.M)]
    assert not hand_written, f"entries written by hand can drift: {hand_written}"


@pytest.mark.parametrize("name", public_rules())
def test_every_public_rule_is_documented_with_signature_and_docstring(executed_page_text, name):
    function = getattr(rules, name)
    signature = f"{name}{inspect.signature(function)}"
    assert signature in executed_page_text, f"{signature} is not on the model reference page"
    summary = inspect.getdoc(function).splitlines()[0].strip()
    assert summary in executed_page_text, f"the docstring of {name} is not on the page"


@pytest.mark.slow
@pytest.mark.xdist_group(BOOK_GROUP)
def test_every_public_rule_is_in_the_built_page(built_book):
    built = built_book.html / "book" / "appendix" / "model_reference.html"
    assert built.exists(), "the model reference page was not built"
    page = html.unescape(re.sub(r"<[^>]+>", "", built.read_text(encoding="utf-8")))
    missing = [name for name in public_rules() if f"{name}(" not in page]
    assert not missing, f"rules missing from the built model reference: {missing}"
