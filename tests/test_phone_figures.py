"""Figures on a phone (issue 17): a wide figure carries a phone layout, its panels in one column, that the book shows
below 576 px. The browser side (nothing wider than a 390 px screen) is in test_browser.py."""

from __future__ import annotations

import importlib.util
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from docutils import nodes  # noqa: E402
from PIL import Image  # noqa: E402

from conftest import ROOT  # noqa: E402
from simulations import plots  # noqa: E402


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


@pytest.fixture
def three_panels():
    fig, axes = plt.subplots(1, 3, figsize=(8, 3.4), sharey=True)
    for i, ax in enumerate(axes):
        ax.stackplot([0, 1, 2], [[1, 2, 3], [2, 2, 2]], labels=["needs ended / other ties", "competitor's lure"])
        ax.set_xlabel(f"month {i}")
    axes[2].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # outside, to the right, as plots does
    yield fig
    plt.close("all")


def test_a_row_of_panels_becomes_one_column_of_phone_width(three_panels):
    phone = plots.phone_layout(three_panels)
    assert phone is not None and phone is not three_panels
    width, height = phone.get_size_inches()
    assert width == pytest.approx(plots.PHONE_FIGURE_WIDTH)
    assert height >= 3 * plots.PHONE_PANEL_HEIGHT[0]
    rows = sorted(ax.get_subplotspec().rowspan.start for ax in phone.axes)
    assert rows == [0, 1, 2] and {ax.get_subplotspec().colspan.start for ax in phone.axes} == {0}
    phone.canvas.draw()
    for ax in phone.axes:  # the shared y axis keeps its numbers on every panel, now that none stands beside another
        assert any(label.get_visible() and label.get_text() for label in ax.get_yticklabels())
    legend = phone.axes[2].get_legend()
    anchor = legend.get_bbox_to_anchor().transformed(phone.axes[2].transAxes.inverted())
    assert anchor.y0 < 0 and anchor.x0 < 1  # moved below the panel
    assert three_panels.get_size_inches()[0] == 8  # the original is left alone
    assert all(plt.figure(n) is not phone for n in plt.get_fignums())  # the phone copy is not left open in pyplot


def test_a_narrow_figure_needs_no_phone_layout():
    fig, _ = plt.subplots(figsize=(plots.PHONE_WIDEST_AS_IS, 3))
    assert plots.phone_layout(fig) is None and plots.phone_png(fig) is None
    plt.close(fig)


def test_the_phone_layout_travels_inside_the_png_and_comes_out_intact(three_panels):
    own = _png(three_panels)
    phone = plots.phone_png(three_panels)
    combined = plots.with_phone_layout(own, phone)
    assert len(combined) > len(own)
    assert Image.open(io.BytesIO(combined)).size == Image.open(io.BytesIO(own)).size  # still a valid PNG
    assert plots.split_phone_layout(combined) == (own, phone)
    assert plots.split_phone_layout(own) == (own, None)
    width = Image.open(io.BytesIO(phone)).size[0]
    # cropped to its drawing: about PHONE_FIGURE_WIDTH, never so wide that a phone's column would shrink its labels
    assert 0.8 * plots.PHONE_FIGURE_WIDTH <= width / plots.FIGURE_DPI <= plots.PHONE_WIDEST_AS_IS
    with pytest.raises(ValueError, match="not a PNG"):
        plots.split_phone_layout(b"GIF89a")


def test_ipython_shows_every_figure_with_its_phone_layout(three_panels):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert plots.show_phone_layouts(shell)
        assert plots.phone_layouts_shown()
        data, _ = shell.display_formatter.format(three_panels)
        png = data["image/png"]
        png = png if isinstance(png, bytes) else __import__("base64").b64decode(png)
        own, phone = plots.split_phone_layout(png)
        assert phone is not None and own.startswith(b"\x89PNG")
    finally:
        InteractiveShell.clear_instance()
        plots._PHONE_LAYOUTS["shown"] = False


def _extension():
    spec = importlib.util.spec_from_file_location("loyalty_lab_html", ROOT / "book/_ext/loyalty_lab_html.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_book_puts_both_layouts_in_the_page_and_each_png_plain(tmp_path, three_panels):
    extension = _extension()
    own = _png(three_panels)
    phone = plots.phone_png(three_panels)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "figure.png").write_bytes(plots.with_phone_layout(own, phone))
    (tmp_path / "out" / "plain.png").write_bytes(own)

    class App:
        srcdir = str(tmp_path)

        class env:
            docname = "book/page"

    doctree = nodes.section()
    container = nodes.container()
    container += nodes.image(uri="/out/figure.png")
    container += nodes.image(uri="/out/plain.png")
    doctree += container
    extension.add_phone_layouts(App, doctree)

    images = list(doctree.findall(nodes.image))
    assert [image["uri"] for image in images] == ["/out/figure.png", "/out/figure.phone.png", "/out/plain.png"]
    assert images[0]["classes"] == [extension.WIDE_FIGURE_CLASS]
    assert images[1]["classes"] == [extension.PHONE_FIGURE_CLASS, extension.STACKED_CLASS]  # three panels side by side
    assert images[0]["loading"] == images[1]["loading"] == "lazy"  # only the one shown is downloaded
    assert images[2]["classes"] == [] and "loading" not in images[2]
    assert (tmp_path / "out" / "figure.png").read_bytes() == own  # the page's PNG is plain again
    assert (tmp_path / "out" / "figure.phone.png").read_bytes() == phone

    extension.add_phone_layouts(App, doctree)  # a second pass (a rebuild) adds nothing twice
    assert len(list(doctree.findall(nodes.image))) == 3


def test_only_panels_that_stood_side_by_side_get_the_note_that_they_now_stand_one_below_the_other(tmp_path, three_panels):
    """A wide figure of one panel also has a phone layout, but nothing in it moved: its caption's words still hold."""
    one_panel, _ = plt.subplots(figsize=(8, 3.4))
    assert plots.side_by_side(one_panel) == 1 and plots.side_by_side(three_panels) == 3
    extension = _extension()
    for name, fig in (("one.phone.png", one_panel), ("three.phone.png", three_panels)):
        (tmp_path / name).write_bytes(plots.phone_png(fig))
    assert not extension._stacked(tmp_path / "one.phone.png") and extension._stacked(tmp_path / "three.phone.png")


@pytest.mark.parametrize("language", ["en", "it", "pl", "zh_CN"])
def test_the_note_under_a_stacked_figure_is_in_the_pages_language(language):
    import sys

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from loyalty_lab_i18n import PHONE_NOTE, words_css

    from simulations.i18n import gettext

    css = words_css(language)
    note = gettext(PHONE_NOTE, "site", language=language)
    assert f'content: "{note}"' in css and "img.loyalty-stacked-panels" in css and "max-width: 576px" in css
    assert (note == PHONE_NOTE) == (language == "en")


def test_the_css_shows_the_phone_layout_only_on_a_phone():
    css = (ROOT / "book/_static/loyalty_lab.css").read_text(encoding="utf-8")
    extension = _extension()
    assert f"figure img.{extension.PHONE_FIGURE_CLASS}" in css and f"figure img.{extension.WIDE_FIGURE_CLASS}" in css
    assert "max-width: none" not in css  # no figure keeps a width wider than the column


def test_downloads_keep_plain_pngs(three_panels):
    import base64

    extension = _extension()
    own = _png(three_panels)
    combined = plots.with_phone_layout(own, plots.phone_png(three_panels))
    notebook = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "data": {"image/png": base64.b64encode(combined).decode("ascii")}},
        {"output_type": "stream", "text": "hello"}]}, {"cell_type": "markdown", "source": "text"}]}
    plain = extension.without_phone_layouts(notebook)
    assert base64.b64decode(plain["cells"][0]["outputs"][0]["data"]["image/png"]) == own


def test_an_axis_label_wider_than_its_panel_is_wrapped_to_stay_in_the_phone_column():
    names = ["structural over social bonds", "price 5% above market", "start: balanced"]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
    for ax in axes:
        ax.barh(names, [1, 2, 3])
        ax.set_xlabel("profit over three years of the whole customer base (thousands)")
    phone = Image.open(io.BytesIO(plots.phone_png(fig)))
    assert phone.size[0] / plots.FIGURE_DPI <= plots.PHONE_WIDEST_AS_IS  # 85 CSS px an inch in a 358 px column
    assert fig.axes[0].get_xlabel().count("\n") == 0  # the desktop figure keeps its one-line label
    plt.close(fig)
