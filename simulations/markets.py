"""What a market name typed by a person stands for: built-in names in any case, scenario files, and the usual slips.

`load_scenario` takes exact names; the command line and the workshop pass names through `resolve_market` first,
so `TELECOM` works, `telcom` gets "did you mean 'telecom'?", and a team's strategy file given where the market
belongs (`tournament teams/red.yaml teams/`) is named as such instead of failing on its first lever.
"""

from __future__ import annotations

from pathlib import Path

from .errors import BadFile, UnknownScenario
from .files import read_yaml
from .parameters import LEVERS_BY_NAME
from .scenarios import list_scenarios


def resolve_market(name):
    """The built-in market name that `name` stands for (any case), or a scenario file's path as given.

    A dict (an inline scenario) is returned unchanged.

    Raises:
        UnknownScenario: neither a market nor a scenario file, with "did you mean" for near misses; a folder or a
            strategy file says so, as that usually means the market was forgotten on the command line.
    """
    if isinstance(name, dict):
        return name
    text = str(name).strip()
    known = list_scenarios()
    canonical = {market.lower(): market for market in known}.get(text.lower())
    if canonical is not None:
        return canonical
    path = Path(text)
    if path.is_dir():
        raise UnknownScenario(text, known, reason="is a folder, not a market: the market is missing; give the "
                                                  "market first, e.g. telecom")
    if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
        if is_strategy_file(path):
            raise UnknownScenario(text, known, reason="is a strategy file, not a market: the market is missing; "
                                                      "give the market first, e.g. telecom")
        return text
    raise UnknownScenario(text, known)


def is_strategy_file(path) -> bool:
    """Whether a YAML file holds strategy levers (and so is a team's file, not a market's)."""
    try:
        data = read_yaml(path)
    except (BadFile, ValueError):
        return False
    if not isinstance(data, dict) or not data:
        return False
    levers = {lever.lower() for lever in LEVERS_BY_NAME}
    return any(str(key).lower() in levers for key in data)
