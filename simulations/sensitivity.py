"""Global sensitivity analysis: Sobol indices of the model's outcomes, with the model runs spread over Dask.

Which levers (or scenario settings) move an outcome, alone (first-order index S1) and through their
interactions (total index ST)? Saltelli's scheme, as SALib implements it (Saltelli et al. 2010; Herman &
Usher 2017), varies every chosen factor over its whole allowed range at once, so the answer does not
depend on a starting point the way a one-lever sweep does.

Each factor's range is the min and max of its entry in `simulations.parameters` (or a narrower range
given as `name=low:high`). Each model run is a complete, seeded task: its seed comes from the analysis
seed and the run's index alone (`evaluation_seed`), so the indices are the same whether the runs happen
in this process, on a `dask.distributed.LocalCluster` or on a cluster of other machines. Because every run
has its own seed, the model's own randomness acts like one more, hidden factor: a lever with no effect at
all still shows an ST of about (seed noise variance) / (outcome variance). Larger markets shrink that noise.

    table = sobol_indices("telecom", ["frontline_care", "price_index"], ["profit"], samples=64, seed=1)
    save_sensitivity(table, "sens-telecom")
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import InvalidParameter, LoyaltyLabError, UnknownField
from .parameters import LEVERS_BY_NAME, SETTINGS_BY_NAME
from .scenarios import load_scenario
from .strategy import Strategy

if TYPE_CHECKING:  # pandas is imported where it is used, so `loyalty-lab --help` stays quick
    import pandas as pd

CSV_COLUMNS = ("lever", "outcome", "S1", "S1_conf", "ST", "ST_conf")
MIN_SAMPLES, MAX_SAMPLES = 8, 8192  # Sobol' points per factor set; a power of two keeps the sequence balanced
DEFAULT_SAMPLES = 64
SAMPLES_ALLOWED = f"a power of two from {MIN_SAMPLES} to {MAX_SAMPLES} (e.g. 32, 64, 128)"
DEFAULT_CUSTOMERS, DEFAULT_MONTHS = 1000, 36  # 0.05-0.1 s a run: N = 64 with 4 levers (384 runs) took
# 36-83 s on 2 cores shared with other work
MAX_WORKERS = 64
CONNECT_TIMEOUT = 10  # seconds to reach a scheduler
WORKER_TIMEOUT = 30  # seconds to wait for its first worker (a worker starting on a busy machine is slow)
BOOTSTRAP_RESAMPLES = 100  # SALib's default, for the confidence intervals


# ---------------------------------------------------------------------------------------------- factors
@dataclass(frozen=True)
class Factor:
    """One input varied by the analysis: a strategy lever or a numeric scenario setting, over [low, high]."""

    name: str
    kind: str  # "lever" or "setting"
    low: float
    high: float
    integer: bool = False


def _is_numeric(spec) -> bool:
    return not spec.choices and spec.min is not None and spec.max is not None


def _numeric_names() -> list[str]:
    return [p.name for p in (*LEVERS_BY_NAME.values(), *SETTINGS_BY_NAME.values()) if _is_numeric(p)]


def make_factor(name: str, low: float | None = None, high: float | None = None) -> Factor:
    """The factor `name` over its spec's range, or over [low, high] when given (which must lie inside it)."""
    spec = LEVERS_BY_NAME.get(name) or SETTINGS_BY_NAME.get(name)
    if spec is None:
        raise UnknownField("sensitivity --levers", name, _numeric_names())
    if not _is_numeric(spec):
        raise InvalidParameter("sensitivity", "levers", name,
                               f"a lever or scenario setting with a numeric range ({spec.name} is "
                               f"{spec.allowed()}); numeric ones: {', '.join(_numeric_names())}")
    low = spec.min if low is None else low
    high = spec.max if high is None else high
    if not spec.min <= low < high <= spec.max:
        raise InvalidParameter("sensitivity", name, f"{low:g}:{high:g}",
                               f"a range low:high with low < high inside {spec.min:g} to {spec.max:g}")
    return Factor(name, "lever" if name in LEVERS_BY_NAME else "setting", float(low), float(high), spec.integer)


def parse_factors(text: str) -> list[Factor]:
    """'a,b=0.2:0.8,c' -> factors a, b (over 0.2-0.8) and c; each name once, at least two of them."""
    factors = []
    for item in (part.strip() for part in text.split(",")):
        name, _, bounds = item.partition("=")
        name = name.strip()
        if not name:
            raise InvalidParameter("sensitivity", "levers", text, "names separated by commas, e.g. "
                                   "frontline_care,price_index,cross_sell (optionally name=low:high)")
        factors.append(make_factor(name, *_bounds(name, bounds)) if bounds else make_factor(name))
    names = [f.name for f in factors]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidParameter("sensitivity", "levers", ",".join(duplicates), "each lever once")
    if len(factors) < 2:
        raise InvalidParameter("sensitivity", "levers", text, "at least two levers: Sobol indices share out an "
                               "outcome's variance between them")
    return factors


def _bounds(name: str, text: str) -> tuple[float, float]:
    low, sep, high = text.partition(":")
    try:
        return float(low), float(high)
    except ValueError:
        raise InvalidParameter("sensitivity", name, text, "a range low:high, e.g. 0.2:0.8") from None


@lru_cache(maxsize=1)
def numeric_outcomes() -> tuple[str, ...]:
    """The keys of `metrics.outcomes` that are numbers, read from a tiny run so that the list never drifts."""
    from .workshop import run_one

    sample = run_one("telecom", n_customers=10, months=1, seed=0)
    return tuple(k for k, v in sample.items()
                 if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool))


def check_outcomes(names) -> list[str]:
    """The outcome names, each one a numeric outcome of a run (see `numeric_outcomes`)."""
    names = [names] if isinstance(names, str) else list(names)
    known = numeric_outcomes()
    for name in names:
        if name not in known:
            raise InvalidParameter("sensitivity", "outcome", name, f"one or more of {', '.join(known)}")
    if not names or len(set(names)) != len(names):
        raise InvalidParameter("sensitivity", "outcome", ",".join(names), "each outcome once, at least one")
    return names


def check_samples(samples) -> int:
    """Samples N: a power of two (Sobol' sequences are balanced only then) from MIN_SAMPLES to MAX_SAMPLES."""
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)):
        raise InvalidParameter("sensitivity", "samples", samples, SAMPLES_ALLOWED)
    if not MIN_SAMPLES <= samples <= MAX_SAMPLES or samples & (samples - 1):
        raise InvalidParameter("sensitivity", "samples", samples, SAMPLES_ALLOWED)
    return int(samples)


# ---------------------------------------------------------------------------------------------- the design
def evaluation_seed(seed: int, index: int) -> int:
    """The seed of model run `index` of an analysis seeded `seed`: independent of who runs it and when."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def _problem(factors: list[Factor]) -> dict:
    return {"num_vars": len(factors), "names": [f.name for f in factors],
            "bounds": [[f.low, f.high] for f in factors]}


def design(factors: list[Factor], samples: int, seed: int) -> np.ndarray:
    """Saltelli's design for first and total indices: samples x (factors + 2) rows, one model run each."""
    from SALib.sample import sobol

    return sobol.sample(_problem(factors), samples, calc_second_order=False, seed=seed)


def _values(factors: list[Factor], row) -> dict:
    """A design row as {name: value}; whole-number settings are rounded (the model takes only whole numbers)."""
    return {f.name: (int(round(v)) if f.integer else float(v)) for f, v in zip(factors, row)}


def make_tasks(scenario, factors: list[Factor], rows: np.ndarray, seed: int, n_customers: int, months: int,
               strategy=None) -> list[dict]:
    """One complete, seeded description per model run, checked here so a bad combination fails before any run.

    The scenario is passed as its validated settings (not a file name), so workers on other machines need
    the loyalty-lab package but not the scenario file.
    """
    base_scenario = load_scenario(scenario)
    base_strategy = Strategy.coerce(strategy)
    tasks = []
    for index, row in enumerate(rows):
        values = _values(factors, row)
        levers = {k: v for k, v in values.items() if k in LEVERS_BY_NAME}
        settings = {k: v for k, v in values.items() if k not in LEVERS_BY_NAME}
        try:
            run_scenario = load_scenario(base_scenario, **settings)
            run_strategy = dataclasses.replace(base_strategy, **levers)
        except LoyaltyLabError as err:
            raise LoyaltyLabError(f"sensitivity: the ranges allow a combination the model refuses ({err}); "
                                  "allowed: narrower ranges given as name=low:high") from None
        tasks.append(dict(scenario=run_scenario, strategy=run_strategy, seed=evaluation_seed(seed, index),
                          n_customers=n_customers, months=months))
    return tasks


def evaluate(tasks: list[dict], outcomes: list[str]) -> list[list[float]]:
    """The chosen outcomes of each run in `tasks` (a batch, so that Dask's per-task overhead stays small)."""
    from .workshop import run_one

    results = []
    for task in tasks:
        out = run_one(**task)
        results.append([float(out[name]) for name in outcomes])
    return results


# ---------------------------------------------------------------------------------------------- running the design
def _batches(tasks: list[dict], slots: int) -> list[list[dict]]:
    """About four batches per worker thread (so the load balances and the bar moves), at most 16 runs each."""
    size = max(1, min(16, math.ceil(len(tasks) / (4 * max(slots, 1)))))
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]


def _bar(total: int, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="model runs", unit="run", disable=not progress, file=sys.stderr)


def run_in_process(tasks: list[dict], outcomes: list[str], progress: bool = False) -> np.ndarray:
    """Every run here, one after another: for tests and small analyses."""
    results = []
    with _bar(len(tasks), progress) as bar:
        for task in tasks:
            results += evaluate([task], outcomes)
            bar.update()
    return np.array(results, dtype=float)


def run_on_dask(tasks: list[dict], outcomes: list[str], scheduler: str | None = None, workers: int | None = None,
                progress: bool = False) -> np.ndarray:
    """Every run on Dask: an existing cluster at `scheduler`, or a LocalCluster of `workers` one-thread processes.

    Results are put back in task order, so the batching and the order in which workers finish do not matter.
    """
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        workers = _check_workers(workers if workers is not None else os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)  # Dask's start/stop chatter would bury the results
        client = Client(cluster)
    else:
        client = connect(scheduler)
    try:
        batches = _batches(tasks, sum(client.nthreads().values()))
        futures = client.map(evaluate, batches, outcomes=outcomes, pure=False)
        where = {future.key: i for i, future in enumerate(futures)}
        results: list = [None] * len(batches)
        with _bar(len(tasks), progress) as bar:
            for future in as_completed(futures):
                results[where[future.key]] = _result(future)
                bar.update(len(batches[where[future.key]]))
        return np.array([row for batch in results for row in batch], dtype=float)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


CLUSTER_ENVIRONMENT = ("a scheduler and workers started in an environment where this version of loyalty-lab is "
                       "installed (see the README)")


def _result(future):
    try:
        return future.result()
    except ImportError as err:  # a worker started where loyalty-lab is not installed
        raise LoyaltyLabError(f"--scheduler: a worker cannot import the model ({err}); "
                              f"allowed: {CLUSTER_ENVIRONMENT}") from None
    except RuntimeError as err:  # the scheduler unpickles the tasks too, so it needs the package as well
        if "deserializ" not in str(err):
            raise
        raise LoyaltyLabError("--scheduler: the scheduler cannot read the model's tasks (it cannot import "
                              f"loyalty-lab's simulations package); allowed: {CLUSTER_ENVIRONMENT}") from None


def model_fingerprint() -> str:
    """A digest of the package's code and built-in scenarios: equal digests, equal model runs."""
    import hashlib

    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*package.glob("*.py"), *package.glob("scenarios/*.yaml")]):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _check_same_model(client, address: str) -> None:
    """Refuse a cluster whose workers run other code: their runs would differ from this process's, silently."""
    try:
        theirs = client.run(model_fingerprint)
    except Exception as err:  # noqa: BLE001 - a worker's failure comes back as a bare Exception with its text
        if isinstance(err, (OSError, TimeoutError)):
            raise
        raise LoyaltyLabError(f"--scheduler: the workers at {address} cannot import the model "
                              f"({str(err).splitlines()[0]}); allowed: {CLUSTER_ENVIRONMENT}") from None
    ours = model_fingerprint()
    different = sorted(worker for worker, digest in theirs.items() if digest != ours)
    if different:
        raise LoyaltyLabError(f"--scheduler: the workers {', '.join(different)} run a different version of the model "
                              f"than this command; allowed: {CLUSTER_ENVIRONMENT}")


def connect(address: str):
    """A Dask client for the scheduler at `address` with at least one worker, or a LoyaltyLabError saying why not."""
    from dask.distributed import Client

    allowed = "the address of a running dask scheduler with workers, e.g. tcp://127.0.0.1:8786"
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InvalidParameter("sensitivity", "scheduler", address, f"{allowed} (could not connect: {reason})") from None
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        _check_same_model(client, address)
    except (OSError, TimeoutError):
        client.close()
        raise InvalidParameter("sensitivity", "scheduler", address,
                               f"{allowed} (the scheduler answered but has no worker after {WORKER_TIMEOUT} s: "
                               "start one with 'dask worker ADDRESS')") from None
    except LoyaltyLabError:
        client.close()
        raise
    return client


def _check_workers(workers) -> int:
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or not 0 <= workers <= MAX_WORKERS:
        raise InvalidParameter("sensitivity", "workers", workers,
                               f"a whole number from 0 (no Dask: runs in this process) to {MAX_WORKERS}")
    return int(workers)


# ---------------------------------------------------------------------------------------------- the analysis
def sobol_indices(scenario="telecom", levers=("frontline_care", "price_index"), outcomes=("profit",),
                  samples: int = DEFAULT_SAMPLES, seed: int = 1, n_customers: int = DEFAULT_CUSTOMERS,
                  months: int = DEFAULT_MONTHS, scheduler: str | None = None, workers: int | None = None,
                  strategy=None, progress: bool = False) -> pd.DataFrame:
    """First-order and total Sobol indices of each outcome to each lever, with 95% bootstrap confidence half-widths.

    Args:
        scenario: market name, YAML path or dict of settings (see `load_scenario`).
        levers: factor names (strategy levers or numeric scenario settings), `Factor`s, or 'a,b=0.2:0.8'.
        outcomes: numeric outcome names of a run (see `numeric_outcomes`).
        samples: N, a power of two; the model runs N x (levers + 2) times.
        seed: seeds the design, every run (see `evaluation_seed`) and the bootstrap.
        n_customers, months: the size of each simulated market.
        scheduler: address of a running Dask scheduler; None starts a LocalCluster.
        workers: LocalCluster processes (default: the core count); 0 runs everything in this process.
        strategy: the strategy whose other levers stay fixed (default: balanced).
        progress: show a progress bar on stderr.

    Returns:
        A DataFrame with the columns `CSV_COLUMNS`, one row per outcome and lever.
    """
    factors = parse_factors(levers) if isinstance(levers, str) else [
        f if isinstance(f, Factor) else make_factor(f) for f in levers]
    if len(factors) < 2:
        raise InvalidParameter("sensitivity", "levers", [f.name for f in factors], "at least two levers")
    outcomes = check_outcomes(outcomes)
    samples = check_samples(samples)
    if workers is not None:
        workers = _check_workers(workers)
    rows = design(factors, samples, seed)
    tasks = make_tasks(scenario, factors, rows, seed, n_customers, months, strategy)
    if scheduler is None and workers == 0:
        values = run_in_process(tasks, outcomes, progress)
    else:
        values = run_on_dask(tasks, outcomes, scheduler, workers, progress)
    return analyse(factors, outcomes, values, seed)


def analyse(factors: list[Factor], outcomes: list[str], values: np.ndarray, seed: int) -> pd.DataFrame:
    """SALib's Sobol analysis of each outcome column of `values` (one row per design row)."""
    import pandas as pd
    from SALib.analyze import sobol

    rows = []
    for j, outcome in enumerate(outcomes):
        with np.errstate(divide="ignore", invalid="ignore"):  # an outcome that never varies has no index (NaN)
            result = sobol.analyze(_problem(factors), values[:, j], calc_second_order=False,
                                   num_resamples=BOOTSTRAP_RESAMPLES, seed=seed)
        for i, factor in enumerate(factors):
            rows.append({"lever": factor.name, "outcome": outcome, "S1": result["S1"][i],
                         "S1_conf": result["S1_conf"][i], "ST": result["ST"][i], "ST_conf": result["ST_conf"][i]})
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS))


# ---------------------------------------------------------------------------------------------- output
def sensitivity_figure(table: pd.DataFrame):
    """One panel per outcome: each lever's first-order (S1) and total (ST) index, bars = 95% confidence."""
    import matplotlib.pyplot as plt

    outcomes = list(dict.fromkeys(table["outcome"]))
    levers = list(dict.fromkeys(table["lever"]))
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(6.4, 0.5 + (0.45 * len(levers) + 0.6) * len(outcomes)),
                             squeeze=False)
    y = np.arange(len(levers))
    for ax, outcome in zip(axes[:, 0], outcomes):
        part = table[table["outcome"] == outcome].set_index("lever").loc[levers]
        bars = dict(height=0.4, error_kw=dict(ecolor="#555555", elinewidth=1, capsize=2))
        ax.barh(y - 0.2, part["S1"], xerr=part["S1_conf"], label="first order (S1)", color="#4a6fa5", **bars)
        ax.barh(y + 0.2, part["ST"], xerr=part["ST_conf"], label="total (ST)", color="#d4a017", **bars)
        ax.set_yticks(y, levers)
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_xlabel(f"Sobol index of {outcome}")
    axes[0, 0].legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize="small", frameon=False)
    fig.tight_layout()
    return fig


def check_output_folder(path, force: bool = False) -> Path:
    """The output folder, checked before any run: a new folder, an empty one, or (with force) one holding files."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise LoyaltyLabError(f"--out: {str(path)!r} is a file, not a folder; allowed: a folder name")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise LoyaltyLabError(f"--out: folder {str(path)!r} already exists and is not empty; allowed: a new folder "
                              "name, or add --force to overwrite the files this command writes")
    return folder


def save_sensitivity(table: pd.DataFrame, path, force: bool = False) -> list[Path]:
    """Write `sensitivity.csv` and `sensitivity.png` atomically: into a temporary folder, then renamed into place.

    A new folder appears whole or not at all. Into an existing folder (with force) each file is renamed over
    its old copy, so a reader never sees half a file and the folder's other files stay.
    """
    import matplotlib.pyplot as plt

    folder = check_output_folder(path, force)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the renamed folder should look like any other
    try:
        table.to_csv(staging / "sensitivity.csv", index=False, columns=list(CSV_COLUMNS))
        fig = sensitivity_figure(table)
        fig.savefig(staging / "sensitivity.png", dpi=120)
        plt.close(fig)
        names = ["sensitivity.csv", "sensitivity.png"]
        if folder.is_dir():
            for name in names:
                os.replace(staging / name, folder / name)
        else:
            staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / name for name in names]


def indices_text(table: pd.DataFrame) -> str:
    """The indices as a plain-text table, largest total index first within each outcome."""
    shown = table.copy()
    shown["order"] = shown.groupby("outcome", sort=False).ngroup()
    shown = shown.sort_values(["order", "ST"], ascending=[True, False]).drop(columns="order")
    for col in ("S1", "ST"):
        shown[col] = [f"{v:6.3f} ± {c:.3f}" for v, c in zip(shown[col], shown[f"{col}_conf"])]
    return shown[["outcome", "lever", "S1", "ST"]].to_string(index=False)
