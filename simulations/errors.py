"""Errors a learner or instructor can meet, each naming the field, the value and what is allowed."""


class LoyaltyLabError(ValueError):
    """Base class for every bad-input error in Loyalty Lab (a ValueError, so callers can catch either)."""


class InvalidParameter(LoyaltyLabError):
    """A strategy lever or scenario setting with a value outside what is allowed."""

    def __init__(self, owner: str, field: str, value, allowed: str):
        self.owner, self.field, self.value, self.allowed = owner, field, value, allowed
        super().__init__(f"{owner} field '{field}': {value!r} is not allowed; allowed: {allowed}")


class UnknownField(LoyaltyLabError):
    """A field name that the strategy or scenario does not have (often a typo)."""

    def __init__(self, owner: str, field: str, known):
        self.owner, self.field = owner, field
        close = [k for k in known if k.startswith(field[:4])] if len(field) >= 4 else []
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        super().__init__(
            f"{owner} has no field '{field}'{hint}; allowed fields: {', '.join(sorted(known))}"
        )


class UnknownScenario(LoyaltyLabError):
    """A scenario name that is neither a built-in market nor a readable file."""

    def __init__(self, name, known):
        super().__init__(
            f"scenario: {name!r} is not a known market or a scenario file; known markets: {', '.join(known)}"
        )


class BadFile(LoyaltyLabError):
    """A YAML file that cannot be read or does not hold a mapping of fields."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        super().__init__(f"{path}: {reason}")
