"""Reading the course's YAML data files (strategies, scenarios, challenges, quizzes) safely and helpfully."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import BadFile


def read_yaml(path):
    """The data in a YAML file, read with `yaml.safe_load` (a file is data, never code).

    Raises:
        BadFile: the file cannot be read, or is not valid YAML; the message says where the problem is
            (line and column), which matters most for a tab or a missing bracket in a team's file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise BadFile(path, f"cannot be read ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise BadFile(path, "is not a text file (expected UTF-8 YAML)") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        if "\t" in text and "\\t" in str(err):  # PyYAML names the character as '\t'
            problem = f"{problem} (YAML does not allow tabs for indentation: use spaces)"
        raise BadFile(path, f"is not valid YAML ({where}{problem})") from None
