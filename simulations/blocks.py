"""A large market shared among the machine's cores: its seats in blocks, each block with a random generator of its own.

The fast engine lives a month block by block (`kernel.live_month`, `kernel.census`), and a new market draws its
people, its network's long ties and its starting customers' histories block by block (`LoyaltyMarket._set_up`),
several blocks at once. The blocks depend only on the number of
seats, never on the number of cores, and each block draws from its own generator, so a seed gives the same run
on one core or on many (`tests/test_blocks.py`).

The first block draws from the model's own generator, and a market of one block draws nothing more: every market
up to BLOCK_SEATS seats (all those of the book, the exercises and the workshops) is one pass over its seats, drawn
as it always was. Larger markets are new draws of the same model; `benchmarks/block_agreement.py` compares their
outcomes with one pass over the seats, over paired seeds.

Nothing here needs numba: the readable engine's set-up shares its blocks too.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .errors import InvalidParameter

# The most seats a block holds: at 100,000 customers (200,000 seats) two blocks, at a million sixteen. Up to
# 131,072 seats (65,536 customers at the default pool_ratio of 1) a market is one block.
BLOCK_SEATS = 2 ** 17


def block_bounds(n_seats: int) -> list[int]:
    """Where the blocks of seats begin and end: as few blocks as hold BLOCK_SEATS each, all of about one size."""
    n_blocks = max(1, -(-n_seats // BLOCK_SEATS))
    return [block * n_seats // n_blocks for block in range(n_blocks + 1)]


def block_generators(rng: np.random.Generator, n_blocks: int) -> list[np.random.Generator]:
    """A random generator for each block: `rng` itself for the first, a new one for each other block.

    The new ones are seeded with numbers `rng` draws, so the same seed gives the same run; for one block
    nothing is drawn.
    """
    if n_blocks == 1:  # every month of every small market: not even an empty draw
        return [rng]
    seeds = rng.integers(0, 2 ** 63, size=n_blocks - 1)
    return [rng] + [np.random.Generator(np.random.PCG64(int(seed))) for seed in seeds]


def each_block(n: int, task, rng: np.random.Generator | None = None) -> list:
    """[task(block, generator) for each block of `n` seats (or people, or customers)], several at once.

    `block` is the block's slice; `generator` the block's own (`block_generators` of `rng`), or None for work
    that draws nothing.
    """
    cuts = block_bounds(n)
    n_blocks = len(cuts) - 1
    generators = block_generators(rng, n_blocks) if rng is not None else [None] * n_blocks
    return in_parallel(lambda b: task(slice(cuts[b], cuts[b + 1]), generators[b]), n_blocks)


def threads() -> int:
    """How many blocks are worked on at once: LOYALTY_LAB_THREADS if set, else the cores this process may use."""
    asked = os.environ.get("LOYALTY_LAB_THREADS", "").strip()
    if asked:
        if not asked.isdigit() or int(asked) < 1:
            raise InvalidParameter("environment", "LOYALTY_LAB_THREADS", asked, "a whole number of at least 1")
        return int(asked)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_pool: tuple[int, int, ThreadPoolExecutor] | None = None  # (process id, workers, pool): a forked child makes its own


def in_parallel(task, n: int) -> list:
    """[task(0), ..., task(n - 1)], several at once when there are cores for it.

    Threads, not processes: the compiled kernels and numpy's large draws and array arithmetic let go of
    Python's lock while they work. Each task must write only its own block's seats.
    """
    global _pool
    workers = min(threads(), n)
    if workers <= 1:
        return [task(i) for i in range(n)]
    if _pool is None or _pool[0] != os.getpid() or _pool[1] < workers:
        if _pool is not None and _pool[0] == os.getpid():  # more threads asked for: the smaller pool's threads end
            _pool[2].shutdown(wait=False)
        _pool = (os.getpid(), workers, ThreadPoolExecutor(workers, thread_name_prefix="loyalty-lab-block"))
    return list(_pool[2].map(task, range(n)))
