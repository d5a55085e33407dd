"""Small fixes to the HTML pages of the Loyalty Lab book (a local Sphinx extension, see _config.yml).

- sphinx-thebe registers its inline configuration script once per reading pass, so a page can declare
  `const THEBE_JS_URL` twice and the browser throws "Identifier 'THEBE_JS_URL' has already been declared".
  Each page keeps one copy of every script.
"""

from __future__ import annotations


def _script_key(script):
    """What makes two scripts the same: the file (None and "" both mean inline) and the attributes, not the priority."""
    attributes = getattr(script, "attributes", {}) or {}
    return str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def dedupe_scripts(app, pagename, templatename, context, doctree):
    """Drop repeated <script> entries (same file or same inline body) from a page."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", dedupe_scripts, priority=100)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

