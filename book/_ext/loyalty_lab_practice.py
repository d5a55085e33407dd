"""Links from the labs and chapters to a practice server, for a student who has only a browser (issue 17).

`loyalty_lab_practice_url` in `_config.yml` (sphinx: config:) is the practice server's address, empty by default.
The directive

    ```{practice-link} ch02_climb_the_ladder
    ```

renders, when the address is set, a link to `<url>/practice?challenge=ch02_climb_the_ladder&lever=value...` with the
challenge's starting strategy prefilled (read from the challenge's YAML at build time: one source of truth); when it
is empty, a note that says how to run the lab instead, and no button to a server that does not exist.
"""

from __future__ import annotations

from urllib.parse import urlencode

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

HOW_TO_RUN = (
    "To run and grade this strategy: download this page as a notebook (.ipynb, in the download menu at the top of "
    "the page), install the course package that the book's home page offers (pip install loyalty_lab-...whl, then "
    "jupyter lab) and run the notebook. If your instructor runs a classroom server, its practice page grades the "
    "challenge {challenge} in the browser."
)


def practice_address(base_url: str, challenge_id: str, strategy: dict) -> str:
    """The practice page of `challenge_id` on the server at `base_url`, with `strategy`'s levers in the query."""
    query = urlencode({"challenge": challenge_id, **{name: str(value) for name, value in strategy.items()}})
    return f"{base_url.rstrip('/')}/practice?{query}"


def starting_strategy(challenge_id: str) -> dict:
    """The levers the challenge's grader starts from (the ones a lab's 'Your turn' cell edits)."""
    from exercises.challenges import load_challenge

    return load_challenge(challenge_id)["starting_strategy"].as_dict()


def practice_nodes(base_url: str, challenge_id: str, language: str | None = None) -> list[nodes.Node]:
    """A link to the practice page when a server is configured, else the plain how-to note (in the book's language,
    from the `site` catalog of book/locales)."""
    from simulations.i18n import LANGUAGES, gettext

    language = language if language in LANGUAGES else "en"
    box = nodes.container(classes=["loyalty-lab-practice"])
    if base_url:
        link = nodes.reference("", gettext("Grade this strategy in your browser", "site", language=language),
                               refuri=practice_address(base_url, challenge_id, starting_strategy(challenge_id)),
                               classes=["practice-link"])
        box += nodes.paragraph("", "", link)
    else:
        box += nodes.paragraph("", gettext(HOW_TO_RUN, "site", language=language).format(challenge=challenge_id))
    return [box]


class PracticeLink(SphinxDirective):
    """```{practice-link} CHALLENGE_ID```: a link to the practice server or a note on how to run the lab."""

    required_arguments = 1
    has_content = False

    def run(self):
        challenge_id = self.arguments[0]
        try:
            starting_strategy(challenge_id)
        except Exception as err:  # a misspelt id is an author's error: a build warning, fatal under -W
            return [self.state.document.reporter.warning(f"practice-link: unknown challenge {challenge_id!r}: {err}",
                                                         line=self.lineno)]
        return practice_nodes(self.config.loyalty_lab_practice_url, challenge_id, self.config.language)


def setup(app):
    app.add_config_value("loyalty_lab_practice_url", "", "html", types=[str])
    app.add_directive("practice-link", PracticeLink)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
