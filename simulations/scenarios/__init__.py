"""Named markets as YAML data files; `load_scenario` reads and validates them."""

from __future__ import annotations

import functools
from pathlib import Path

from ..errors import BadFile, InvalidParameter, UnknownField, UnknownScenario
from ..files import read_yaml
from ..parameters import SCENARIO_SETTINGS, SETTINGS_BY_NAME

SCENARIO_DIR = Path(__file__).parent
TEXT_FIELDS = ("name", "description")


def list_scenarios() -> list[str]:
    """Names of the built-in markets, sorted."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def _read_yaml(path: Path) -> dict:
    """The settings in a scenario file (a fresh dict: callers change it). Parsing is cached per file version, since
    sweeps, tournaments and explorables build hundreds of markets from the same few files."""
    stat = path.stat()
    return dict(_parsed(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=64)
def _parsed(path: str, mtime_ns: int, size: int) -> dict:
    data = read_yaml(Path(path))
    if not isinstance(data, dict):
        raise BadFile(path, "expected a mapping of setting: value")
    return data


def load_scenario(name_or_path="telecom", **overrides) -> dict:
    """A validated scenario: every setting of `SCENARIO_SETTINGS`, from defaults, the file, then `overrides`.

    Args:
        name_or_path: a built-in market name (see `list_scenarios()`), a path to a YAML file, or a dict.
        **overrides: any setting by name, for example `competitive_intensity=0.1`.

    Raises:
        UnknownScenario, BadFile, UnknownField, InvalidParameter (all ValueError subclasses).
    """
    if isinstance(name_or_path, dict):
        data, source = dict(name_or_path), "scenario"
    else:
        path = SCENARIO_DIR / f"{str(name_or_path).lower()}.yaml"  # built-in names match whatever their case
        if not path.exists():
            path = Path(str(name_or_path))
            if path.suffix not in (".yaml", ".yml") or not path.exists():
                raise UnknownScenario(name_or_path, list_scenarios())
        data, source = _read_yaml(path), "scenario"
        data.setdefault("name", path.stem)
    data.update(overrides)
    scenario = {p.name: p.default for p in SCENARIO_SETTINGS}
    scenario.update(name=str(data.get("name", "custom")), description=str(data.get("description", "")))
    for field, value in data.items():
        if field in TEXT_FIELDS:
            continue
        if field not in SETTINGS_BY_NAME:
            raise UnknownField(source, str(field), list(SETTINGS_BY_NAME) + list(TEXT_FIELDS))
        scenario[field] = SETTINGS_BY_NAME[field].check(value, source)
    if not scenario["platinum_cutoff"] >= scenario["gold_cutoff"] >= scenario["iron_cutoff"]:
        raise InvalidParameter(source, "platinum_cutoff", scenario["platinum_cutoff"],
                               "cut-offs in order platinum_cutoff >= gold_cutoff >= iron_cutoff")
    return scenario
