"""Errors a learner or instructor can meet, each naming the field, the value and what is allowed.

Every error carries the same three facts as attributes, so that a web form or an HTTP API can answer with
`{"error": {"field": ..., "value": ..., "allowed": ...}}` (see `LoyaltyLabError.as_dict`) while the command
line prints the message. A file with several mistakes raises `ManyErrors`, which carries every one of them, so a
team fixes its file in one go; `err.errors` is a list of single errors for every kind of error.
"""

from __future__ import annotations

import difflib


def close_matches(name: str, known, limit: int = 3) -> list[str]:
    """Known names that look like `name` (a typo, another case, a missing underscore), best first."""
    known = [str(k) for k in known]
    by_lower = {k.lower(): k for k in known}
    typed = str(name).strip().lower()
    found = difflib.get_close_matches(typed, list(by_lower), n=limit, cutoff=0.6)
    if len(typed) >= 4:  # a name cut short ("competitive" for "competitive_intensity") is a near miss too
        found += [k for k in sorted(by_lower) if k.startswith(typed) and k not in found]
    return [by_lower[k] for k in found[:limit]]


def did_you_mean(name: str, known) -> str:
    """' (did you mean 'x'?)' for the closest known names, or '' when nothing is close."""
    close = close_matches(name, known)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def match_name(name, known, owner: str, value=None) -> str:
    """The known name that `name` stands for, ignoring case (`Frontline_Care` is `frontline_care`).

    Raises:
        UnknownField: no known name matches, with "did you mean" for near misses.
    """
    by_lower = {str(k).lower(): str(k) for k in known}
    canonical = by_lower.get(str(name).strip().lower())
    if canonical is None:
        raise UnknownField(owner, str(name), known, value=value)
    return canonical


class LoyaltyLabError(ValueError):
    """Base class for every bad-input error in Loyalty Lab (a ValueError, so callers can catch either).

    Attributes:
        field: the field (lever, setting, option or file) that is wrong.
        value: the value that was given.
        allowed: what would have been accepted, as a sentence.
    """

    field: str | None = None
    value = None
    allowed: str | None = None

    @property
    def errors(self) -> list["LoyaltyLabError"]:
        """The single errors this error stands for (itself; `ManyErrors` has several)."""
        return [self]

    def as_dict(self) -> dict:
        """`{"field", "value", "allowed", "message"}`: what an API answers for this error."""
        value = self.value if self.value is None or isinstance(self.value, (str, int, float, bool)) else str(self.value)
        return {"field": self.field, "value": value, "allowed": self.allowed, "message": str(self)}


class InvalidParameter(LoyaltyLabError):
    """A strategy lever or scenario setting with a value outside what is allowed."""

    def __init__(self, owner: str, field: str, value, allowed: str):
        self.owner, self.field, self.value, self.allowed = owner, field, value, allowed
        super().__init__(f"{owner} field '{field}': {value!r} is not allowed; allowed: {allowed}")


class UnknownField(LoyaltyLabError):
    """A field name that the strategy or scenario does not have (often a typo); suggests the nearest names."""

    def __init__(self, owner: str, field: str, known, value=None):
        known = [str(k) for k in known]
        self.owner, self.field, self.value = owner, field, value
        self.suggestions = close_matches(field, known)
        self.allowed = "one of the fields " + ", ".join(sorted(known))
        super().__init__(f"{owner} has no field '{field}'{did_you_mean(field, known)}; allowed fields: "
                         f"{', '.join(sorted(known))}")


class DuplicateField(LoyaltyLabError):
    """A field given twice in one file: YAML would silently keep the last value, so it is refused."""

    def __init__(self, owner: str, field: str, line: int | None = None, first_line: int | None = None, value=None,
                 where: str | None = None):
        self.owner, self.field, self.value, self.line, self.first_line = owner, field, value, line, first_line
        self.allowed = "each field once"
        if where is None:
            where = f"again on line {line}" + (f" (first on line {first_line})" if first_line else "")
        super().__init__(f"{owner} field '{field}' is given twice: {where}; allowed: each field once")


class UnknownScenario(LoyaltyLabError):
    """A scenario name that is neither a built-in market nor a readable file."""

    def __init__(self, name, known, reason: str | None = None):
        self.field, self.value = "scenario", name
        self.allowed = f"a market ({', '.join(known)}) or a scenario YAML file"
        self.suggestions = close_matches(str(name), known)
        why = reason or "is not a known market or a scenario file"
        super().__init__(f"scenario: {name!r} {why}{did_you_mean(str(name), known)}; known markets: {', '.join(known)}")


class BadFile(LoyaltyLabError):
    """A YAML file that cannot be read or does not hold a mapping of fields."""

    def __init__(self, path, reason: str, allowed: str = "a readable YAML file of 'name: value' lines"):
        self.path = str(path)
        self.field, self.value, self.allowed = "file", self.path, allowed
        super().__init__(f"{path}: {reason}")


class BadInput(LoyaltyLabError):
    """Any other input that is not allowed: 'FIELD: VALUE PROBLEM; allowed: ALLOWED'."""

    def __init__(self, field: str, value, problem: str, allowed: str):
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field}: {value!r} {problem}; allowed: {allowed}")


class OutputError(LoyaltyLabError):
    """An output folder that cannot be written (read-only, under a file, already used...)."""

    def __init__(self, path, reason: str, allowed: str):
        self.field, self.value, self.allowed = "--out", str(path), allowed
        super().__init__(f"--out: {str(path)!r} {reason}; allowed: {allowed}")


class ManyErrors(LoyaltyLabError):
    """Every mistake found in one file (or one input), reported together; `.errors` lists them.

    `field`, `value` and `allowed` are those of the first error, so code that expects a single error still works.
    """

    def __init__(self, source: str, errors: list[LoyaltyLabError]):
        self.source, self._errors = str(source), list(errors)
        first = self._errors[0]
        self.field, self.value, self.allowed = first.field, first.value, first.allowed
        details = "; ".join(f"({i}) {err}" for i, err in enumerate(self._errors, 1))
        super().__init__(f"{source}: {len(self._errors)} errors: {details}")

    @property
    def errors(self) -> list[LoyaltyLabError]:
        return list(self._errors)

    def as_dict(self) -> dict:
        return {**self._errors[0].as_dict(), "message": str(self), "errors": [e.as_dict() for e in self._errors]}
