"""The people of a simulated market: their state as numpy arrays, their social network, and newcomers.

A market has a fixed number of seats. Each seat holds one person at a time, who may be a suspect, a
prospect, a customer of one firm on some rung of the loyalty ladder, or lost. When a person dies or
moves away, a newcomer takes the seat, so the market keeps its size.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from dataclasses import dataclass, fields

import numpy as np

from . import rules
from .blocks import each_block

NO_FIRM = -1  # `People.firm` of someone who is nobody's customer


@dataclass
class People:
    """The state of every seat in the market, one numpy array per attribute (structure of arrays)."""

    stage: np.ndarray            # rung of the loyalty ladder, an index into rules.STAGES
    firm: np.ndarray             # the firm a customer buys from (NO_FIRM for everyone else)
    prospect_firm: np.ndarray    # the firm a prospect is considering
    tier: np.ndarray             # rules.TIERS index, from profitability at the last review
    good_fit: np.ndarray         # the offer suits this person's needs (Griffin's qualified prospect)
    offer_fit: np.ndarray        # lasting part of what this person gets from an offer
    spend: np.ndarray            # monthly category spend
    cost_to_serve: np.ndarray
    price_sensitivity: np.ndarray
    quality_sensitivity: np.ndarray
    expectation: np.ndarray
    proneness: np.ndarray        # lasting proneness to leave (rules.churn_proneness), mean 1
    satisfaction: np.ndarray
    share_of_wallet: np.ndarray
    tenure: np.ndarray           # months with the current firm
    stage_months: np.ndarray     # months on the current rung
    products: np.ndarray
    points: np.ndarray
    social: np.ndarray
    customization: np.ndarray
    structural: np.ndarray
    neglect: np.ndarray          # perceived indifference of the firm
    switching: np.ndarray        # switching cost, the share of a rival's pull that ties absorb
    voluntary_hazard: np.ndarray  # this month's chance of leaving of one's own accord
    profit: np.ndarray           # this month's profit to the firm
    profit_ema: np.ndarray       # recent profitability, for tier reviews
    referred: np.ndarray         # a prospect who came through an advocate
    warned: np.ndarray           # months left during which a warning keeps this person away
    churn_cause: np.ndarray      # why this person last left a firm (rules.CHURN_CAUSES index, -1 never)
    incarnation: np.ndarray      # counts relationships begun in this seat: a new one is a new customer

    # small integer types keep a million customers within a kilobyte each
    DTYPES = {"stage": np.int8, "firm": np.int8, "prospect_firm": np.int8, "tier": np.int8, "churn_cause": np.int8,
              "warned": np.int8, "products": np.int16, "tenure": np.int32, "stage_months": np.int32,
              "incarnation": np.int32, "good_fit": bool, "referred": bool}

    @classmethod
    def empty(cls, n: int) -> "People":
        return cls(**{f.name: np.zeros(n, dtype=cls.DTYPES.get(f.name, np.float64)) for f in fields(cls)})

    def active_mask(self) -> np.ndarray:
        """Boolean array over seats: True for customers (first-time up to advocate)."""
        return (self.stage >= rules.FIRST_TIME) & (self.stage <= rules.ADVOCATE)


class Selection:
    """The state of the people in `seats`: each attribute gathered from `People` once, on first use.

    A month reads the same customers' attributes many times; gathering each once and writing back with
    `set` keeps the numpy engine to a few passes over the base (gathers and scatters over a large base
    cost more than the arithmetic between them). Gathered arrays are read-only, so an update that
    bypasses `set` (and so would never reach `People`) fails loudly.
    """

    def __init__(self, people: People, seats: np.ndarray):
        self.people, self.seats = people, seats

    @classmethod
    def of(cls, people: People, seats) -> "Selection":
        """`seats` itself if it is already a Selection, else a new one over those seat numbers."""
        return seats if isinstance(seats, Selection) else cls(people, seats)

    def __len__(self):
        return len(self.seats)

    def __getattr__(self, name):
        if name.startswith("_") or name in ("people", "seats"):  # not a state variable (e.g. copy's probes)
            raise AttributeError(name)
        return self._keep(name, getattr(self.people, name).take(self.seats))

    def set(self, **values):
        """Write attributes for every selected person (arrays over the selection, or one value for all)."""
        for name, value in values.items():
            column = getattr(self.people, name)
            column[self.seats] = value
            if isinstance(value, np.ndarray) and value.dtype == column.dtype and value.shape == self.seats.shape:
                self._keep(name, value.view())  # a read-only view of the caller's array, not a copy
            else:  # one value for all, or another type: keep what the column now holds
                self._keep(name, np.broadcast_to(np.asarray(value, dtype=column.dtype), self.seats.shape))

    def _keep(self, name, value):
        value.flags.writeable = False
        self.__dict__[name] = value
        return value


def in_seat_order(seats: np.ndarray, n_seats: int) -> tuple[np.ndarray, np.ndarray]:
    """(`seats` sorted, and for each sorted seat its position in `seats`), for `seats` all different.

    Values drawn in the order of `seats`, indexed by those positions, line up with the sorted seats;
    writing to sorted seats walks memory in order, which at a million seats is several times faster.
    """
    position = np.full(n_seats, -1, dtype=np.int64)
    position[seats] = np.arange(len(seats))
    ordered = np.flatnonzero(position >= 0)
    return ordered, position[ordered]


@functools.cache
def keep_freed_memory_for_reuse() -> bool:
    """Ask the C library's allocator (glibc) to keep freed memory for reuse; True if it could. Done once per process.

    A month of a large market makes and frees dozens of temporary arrays of about a megabyte. By default
    glibc returns the free top of its heap to the system at once, so the next month page-faults the same
    memory back in: at 100,000 customers that was about a third of a month's time (`benchmarks/bench_model.py
    --scale`). Serving arrays under 32 MB from the heap and keeping up to 512 MB of it free (a million
    customers use that much in a month) removes that. Elsewhere (macOS, Windows, musl) this does nothing.
    """
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers, from glibc's malloc.h
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 512 << 20))
    except (OSError, AttributeError):
        return False


@contextlib.contextmanager
def without_huge_pages():
    """Within the block, numpy does not ask Linux to back its large arrays with transparent huge pages.

    numpy advises huge pages for every array over 4 MB. Where Linux grants them only on request (`madvise`, the
    default of Debian and Ubuntu) and memory is fragmented, the first touch of such an array waits while the
    kernel compacts memory to find them: setting up a million customers (2,000,000 seats, arrays of 16 MB) took
    1.35-1.73 s with the advice against 0.99-1.11 s without, in fresh processes on our CI machine, and the months
    after ran no faster with it. Below a few hundred thousand customers no array is that large: nothing changes.
    Where numpy has no such switch (it is semi-private), this does nothing.
    """
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:
        try:
            from numpy.core.multiarray import _set_madvise_hugepage  # numpy 1.x
        except ImportError:
            _set_madvise_hugepage = None
    if _set_madvise_hugepage is None:
        yield
        return
    previous = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(previous)


def small_world_network(rng, n: int, degree: int, rewiring: float) -> np.ndarray:
    """Each person's `degree` neighbours: a ring lattice with random long ties (Watts & Strogatz 1998), rewired
    block by block of people (`blocks.py`)."""
    offsets = np.concatenate([np.arange(1, degree // 2 + 1), -np.arange(1, degree // 2 + 1)])
    everyone = np.arange(n, dtype=np.int32)
    neighbours = np.empty((n, len(offsets)), dtype=np.int32)
    for k, offset in enumerate(offsets):
        neighbours[:, k] = np.roll(everyone, -offset)  # person i's neighbour i + offset, round the ring
    ties = neighbours.reshape(-1)

    def rewire(people: slice, block_rng):
        # which of these people's ties are rewired: the same uniforms as one draw over them, drawn a million at a time
        # so that a large market never holds them all (at 1,000,000 customers, 96 MB of memory touched for the first time)
        first, last, chunk = people.start * len(offsets), people.stop * len(offsets), 1 << 20
        rewired = np.concatenate([start + np.flatnonzero(block_rng.random(min(chunk, last - start)) < rewiring)
                                  for start in range(first, last, chunk)])
        ties[rewired] = block_rng.integers(0, n, len(rewired))

    each_block(n, rewire, rng)
    return neighbours


def draw_newcomers(people: People, seats: np.ndarray, scenario: dict, rng):
    """Fresh people in `seats` (seat numbers, a slice of seats, or None for every seat): suspects with their own
    spend, costs, sensitivities, expectations and proneness."""
    sc, p = scenario, people
    seats = slice(None) if seats is None else seats  # the whole market (or a block of it) at set-up: no scatter
    n = len(range(*seats.indices(len(p.stage)))) if isinstance(seats, slice) else len(seats)
    good_fit = rng.random(n) < sc["good_fit_share"]
    p.good_fit[seats] = good_fit
    # poor fits buy little and cost more: they are the disqualified prospects of Griffin's ladder
    p.spend[seats] = sc["spend_median"] * np.exp(sc["spend_sigma"] * rng.standard_normal(n)) * np.where(good_fit, 1.0, 0.5)
    p.cost_to_serve[seats] = (sc["cost_to_serve_median"] * np.exp(sc["cost_to_serve_sigma"] * rng.standard_normal(n))
                              * np.where(good_fit, 1.0, 1.3))
    # how well offers in this market suit this person's needs: a lasting part of what they get, worse for poor fits
    p.offer_fit[seats] = 0.08 * rng.standard_normal(n) - np.where(good_fit, 0.0, 0.1)
    p.price_sensitivity[seats] = _beta(rng, sc["price_sensitivity_mean"], n)
    p.quality_sensitivity[seats] = _beta(rng, sc["quality_sensitivity_mean"], n)
    p.expectation[seats] = rules.clip01(sc["expectation_mean"] + sc["expectation_sd"] * rng.standard_normal(n))
    p.proneness[seats] = rules.churn_proneness(rng, sc["proneness_shape"], n)
    p.stage[seats], p.stage_months[seats], p.warned[seats], p.referred[seats] = rules.SUSPECT, 0, 0, False
    p.firm[seats] = p.prospect_firm[seats] = NO_FIRM
    p.churn_cause[seats], p.satisfaction[seats], p.profit[seats], p.profit_ema[seats] = -1, 0.0, 0.0, 0.0


def _beta(rng, mean, n, concentration=6.0):
    """Draws in [0, 1] with the given mean (a Beta distribution), for sensitivities."""
    mean = min(max(mean, 0.01), 0.99)
    return rng.beta(mean * concentration, (1 - mean) * concentration, n)
