"""The chapter explorables in the HTML book (a local Sphinx extension, registered in _config.yml).

- Tells the kernels that execute the pages to emit the in-page explorable (simulations.explorables reads
  LOYALTY_LAB_EXPLORABLES=interactive; a kernel inherits the environment of the build that starts it).
- Serves the chart library itself: vega, vega-lite and vega-embed, installed from the npm registry at set-up by
  tools/install_explorable_assets.sh, are copied into the build's _static/explorables/ with the page loader
  (book/_static/loyalty_explorables.js). Nothing is loaded from a CDN.
- Adds those scripts only to pages that show an explorable, deferred and in order (library, then loader).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "tools" / "explorables" / "node_modules"
LIBRARY = ("vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js")
LOADER = ROOT / "book" / "_static" / "loyalty_explorables.js"
STATIC_DIR = "explorables"  # inside the build's _static
MARKER = 'class="loyalty-explorable"'
MODE_VARIABLE, INTERACTIVE = "LOYALTY_LAB_EXPLORABLES", "interactive"  # as in simulations/explorables.py


def library_files() -> list[Path]:
    """The built chart library files, or a clear error saying how to install them."""
    files = [NODE_MODULES / name for name in LIBRARY]
    missing = [name for name, path in zip(LIBRARY, files) if not path.exists()]
    if missing:
        raise ExtensionError(f"the explorables' chart library is not installed ({', '.join(missing)} missing in "
                             f"{NODE_MODULES}); "
                             "run tools/install_explorable_assets.sh (make does it at set-up)")
    return files


def check_library(app):
    if app.builder.format == "html":
        library_files()


def add_scripts(app, pagename, templatename, context, doctree):
    """Load the library and the loader on pages that carry an explorable block."""
    if MARKER not in (context.get("body") or ""):
        return
    for path in [*library_files(), LOADER]:
        app.add_js_file(f"{STATIC_DIR}/{path.name}", loading_method="defer")


def copy_assets(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / STATIC_DIR
    target.mkdir(parents=True, exist_ok=True)
    for path in [*library_files(), LOADER]:
        shutil.copyfile(path, target / path.name)


def setup(app):
    os.environ[MODE_VARIABLE] = INTERACTIVE
    app.connect("builder-inited", check_library)
    app.connect("html-page-context", add_scripts, priority=50)  # before loyalty_lab_html copies the list
    app.connect("build-finished", copy_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
