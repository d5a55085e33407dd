"""Labs and challenges for a student with only a browser (issue 17): the book's practice links and the prefilled page."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from docutils import nodes
from starlette.testclient import TestClient

from classroom.app import create_app
from classroom.settings import Settings
from exercises.challenges import load_challenge

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import loyalty_lab_practice  # noqa: E402

LABS = sorted((Path(__file__).resolve().parents[1] / "book" / "labs").glob("lab*.md"))


def test_with_a_server_the_link_carries_the_challenge_and_its_starting_strategy():
    [box] = loyalty_lab_practice.practice_nodes("https://practice.example.org/", "ch03_tiering")
    [link] = list(box.findall(nodes.reference))
    address = urlsplit(link["refuri"])
    assert (address.netloc, address.path) == ("practice.example.org", "/practice")
    query = {name: values[0] for name, values in parse_qs(address.query).items()}
    expected = {name: str(value) for name, value in load_challenge("ch03_tiering")["starting_strategy"].as_dict().items()}
    assert query == {"challenge": "ch03_tiering", **expected}


def test_without_a_server_the_page_says_how_to_run_the_lab_and_shows_no_link():
    [box] = loyalty_lab_practice.practice_nodes("", "ch03_tiering")
    assert not list(box.findall(nodes.reference))
    text = box.astext()
    assert "download" in text and "pip install" in text and "ch03_tiering" in text


@pytest.mark.parametrize("lab", LABS, ids=lambda path: path.stem)
def test_every_labs_your_turn_links_to_a_challenge_that_exists(lab):
    turn = lab.read_text(encoding="utf-8").split("## Your turn", 1)[1]
    found = re.search(r"```\{practice-link\} (\S+)", turn)
    assert found, f"{lab.name}: no practice-link under 'Your turn'"
    load_challenge(found.group(1))


@pytest.fixture
def learner(tmp_path):
    browser = TestClient(create_app(Settings(data_dir=tmp_path / "data", instructor_token="t" * 32)),
                         follow_redirects=False)
    browser.get("/")
    return browser


def test_the_practice_page_shows_the_strategy_of_the_link(learner):
    page = learner.get("/practice?challenge=ch03_tiering&service_lead=0.15&targeting_precision=0.85")
    assert page.status_code == 200
    assert re.search(r'id="service_lead"[^>]*value="0.15"|value="0.15"[^>]*id="service_lead"', page.text)
    assert re.search(r'id="targeting_precision"[^>]*value="0.85"|value="0.85"[^>]*id="targeting_precision"', page.text)


@pytest.mark.parametrize("query", ["service_lead=lots", "service_lead=7", "acquisition_budget=-1"])
def test_a_link_with_a_bad_lever_value_marks_the_field_and_is_never_a_500(learner, query):
    page = learner.get("/practice?challenge=ch03_tiering&" + query)
    assert page.status_code == 400
    assert "fields to correct" in page.text
    name = query.split("=")[0]
    assert f'id="error-{name}"' in page.text


def test_unknown_query_parameters_are_ignored(learner):
    assert learner.get("/practice?challenge=ch03_tiering&no_such_lever=1&__class__=x").status_code == 200


def test_the_graded_page_shows_every_feedback_line_and_a_figure_drawn_by_the_server(learner):
    from exercises import grade

    answer = learner.post("/practice", data={"csrf_token": learner.cookies["ll_csrf"], "challenge": "ch03_tiering",
                                             "service_lead": "0.2"})
    assert answer.status_code == 200
    expected = grade("ch03_tiering", {"service_lead": 0.2})
    feedback = re.search(r'<ul id="feedback">(.*?)</ul>', answer.text, re.S).group(1)
    assert feedback.count("<li>") == len(expected.feedback)
    figure = re.search(r'<svg[^>]*id="checks-figure".*?</svg>', answer.text, re.S)
    assert figure and figure.group(0).count("<rect") == 2 * len(expected.checks)
    assert "http" not in figure.group(0).replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize("practice_url", ["https://practice.example.org", ""])
def test_a_sphinx_build_renders_the_link_only_when_the_server_is_set(tmp_path, practice_url):
    """The directive as the book's build runs it (MyST, warnings as errors), with and without the setting."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(Path(loyalty_lab_practice.__file__).parent)!r})\n"
        f"extensions = ['myst_parser', 'loyalty_lab_practice']\nloyalty_lab_practice_url = {practice_url!r}\n")
    (source / "index.md").write_text("# A lab\n\n## Your turn\n\n```{practice-link} ch02_climb_the_ladder\n```\n")
    with docutils_namespace():  # each build registers its own nodes and directives, as a fresh process would
        Sphinx(str(source), str(source), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
               warningiserror=True, status=None).build()
    page = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]*/practice\?[^"]*)"', page)
    if practice_url:
        assert len(links) == 1 and "challenge=ch02_climb_the_ladder" in links[0]
        assert links[0].startswith(practice_url + "/practice?") and "Grade this strategy in your browser" in page
    else:
        assert links == [] and "pip install" in page and "Grade this strategy" not in page


@pytest.mark.parametrize("address", ["https://practice.example.org/practice?challenge=ch05_bonds", None])
def test_the_downloaded_notebook_keeps_the_link_only_when_there_is_a_server(address):
    import plain_notebook

    facts = plain_notebook.PageFacts(page="labs/lab05", practice_link=lambda challenge: address)
    text = plain_notebook.plain_markdown_text("## Your turn\n\n```{practice-link} ch05_bonds\n```\n", facts)
    assert "practice-link" not in text and "## Your turn" in text
    assert (f"]({address})" in text) if address else ("Grade this strategy" not in text)


def test_a_practice_link_to_an_unknown_challenge_names_it_and_what_is_allowed(learner):
    answer = learner.get("/practice?challenge=ch99_nothing&price_index=0.9")
    assert 400 <= answer.status_code < 500
    assert "ch99_nothing" in answer.text and "ch08_capstone" in answer.text
