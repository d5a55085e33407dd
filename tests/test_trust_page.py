"""The "How far to trust the model" page: where it sits, what it covers, and that its claims are checked at build.

The page's cells (figures, glued numbers and the hidden asserts behind every claim) run under nbval with the
other notebooks; these tests check its structure, so that a section, a citation or a build check cannot
quietly disappear.
"""

from __future__ import annotations

import re

import yaml

from conftest import ROOT

PAGE = ROOT / "book" / "appendix" / "trust.md"
SECTIONS = ("The patterns the model reproduces", "Calibration: the model against a real retention curve",
            "Sensitivity: which levers matter", "What remains assumption")
CITED = ("grimm2005pattern", "railsback2012abm", "grimm2020odd", "fader2007retention", "saltelli2010variance",
         "heskett1994putting", "jones1995defectors", "berry2004datamining", "keaveney1995switching", "zeithaml2001pyramid")


def text() -> str:
    return PAGE.read_text(encoding="utf-8")


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


def test_page_follows_the_model_reference_in_the_table_of_contents():
    files = toc_files()
    assert files.index("book/appendix/trust") == files.index("book/appendix/model_reference") + 1


def test_page_has_its_four_sections_in_order():
    headings = re.findall(r"^## (.+)$", text(), re.M)
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS)


def test_page_cites_its_sources_and_they_are_in_the_bibliography():
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    for key in CITED:
        assert key in text(), f"the page does not cite {key}"
        assert re.search(rf"^@\w+\{{{key},", bib, re.M), f"{key} is not in references.bib"


def test_every_figure_is_named_referenced_and_followed_by_a_build_check():
    page = text()
    names = re.findall(r"^\s*name: (fig-trust-\S+)", page, re.M)
    assert set(names) >= {"fig-trust-jones-sasser", "fig-trust-cohorts", "fig-trust-pyramid", "fig-trust-forecast",
                          "fig-trust-sensitivity"}
    for name in names:
        assert f"{{numref}}`{name}`" in page, f"figure {name} is never referred to"
        # between this figure and the next one, a build-check cell (book/AUTHORING.md) asserts what the prose says
        after = page.split(f"name: {name}", 1)[1].split("name: fig-trust-", 1)[0]
        cells = [cell.split("```", 1)[0] for cell in after.split("```{code-cell} ipython3")[1:]]
        assert any(":tags: [build-check]" in cell and "assert " in cell for cell in cells), f"no build check follows {name}"


def test_every_glued_number_is_set_by_a_cell_of_this_page():
    """Glue keys are book-wide: one set on another page would render there, not be computed here."""
    page = text()
    used = set(re.findall(r"\{glue:text\}`(\w+)", page))
    set_in_cells = set(re.findall(r"put\(\"(\w+)\"", page)) | set(re.findall(r"put\(f\"(\w+)\{", page))
    missing = [key for key in used if key not in set_in_cells and not any(key.startswith(p) for p in set_in_cells)]
    assert not missing, f"glue keys used but never set on this page: {missing}"
    assert all(key.startswith("trust_") for key in used), "glue keys of this page start with trust_"
