"""One check shared by the packages' catalog tests: every extracted message is translated, not fuzzy, and keeps its
placeholders (the pattern differs by catalog: the classroom's also has {names} and HTML tags)."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po


def assert_catalog_complete(path: Path, extracted, placeholders: re.Pattern, language: str) -> None:
    with path.open("rb") as handle:
        catalog = {(m.context, m.id): m for m in read_po(handle) if m.id}
    for message in extracted:
        if not message.id:
            continue
        done = catalog.get((message.context, message.id))
        assert done is not None and done.string and not done.fuzzy, f"{language}: untranslated {message.id!r}"
        assert sorted(placeholders.findall(done.string)) == sorted(placeholders.findall(message.id)), \
            f"{language}: placeholders differ in {message.id!r} -> {done.string!r}"
