"""What a downloaded book page needs in a plain notebook, where the book's build tools are not installed.

The book's pages glue numbers into their prose with myst-nb's `glue`; a downloaded page has those numbers written
into its text (book/_ext/plain_notebook.py), and imports this `glue` instead, so its code runs unchanged with only
the course package installed.
"""

from __future__ import annotations


def glue(name: str, variable, display: bool = True) -> None:
    """myst-nb's `glue`, outside the book: nothing to record; shows `variable` when `display` asks, as myst-nb does.

    Args:
        name: the name the book's prose used for the value (unused here).
        variable: the value.
        display: show the value in the notebook, as myst-nb's glue does by default.
    """
    if display:
        from IPython.display import display as show

        show(variable)
