"""The result cache (simulations/result_cache.py): the book's long seeded simulations, kept on disk between its builds."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from simulations import calibration, result_cache
from simulations.calibration import cohort_survival
from simulations.result_cache import CACHE_FOLDER, remembered
from tests.conftest import ROOT


class Counter:
    """A computation that counts how often it really ran."""

    def __init__(self, value):
        self.value, self.runs = value, 0

    def __call__(self):
        self.runs += 1
        return self.value


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_FOLDER, str(tmp_path / "results"))
    return tmp_path / "results"


def kept_files(folder):
    return sorted(folder.rglob("*.json")) if folder.exists() else []


def test_off_unless_the_environment_names_a_folder(monkeypatch):
    monkeypatch.delenv(CACHE_FOLDER, raising=False)
    compute = Counter([1.0, 0.5])
    assert remembered("curve", {"seed": 1}, compute) == [1.0, 0.5]
    assert remembered("curve", {"seed": 1}, compute) == [1.0, 0.5]
    assert compute.runs == 2


def test_a_result_is_computed_once_and_given_back_after(cache):
    compute = Counter([1.0, 0.75, 0.5])
    first = remembered("curve", {"seed": 1, "market": {"name": "telecom"}}, compute)
    again = remembered("curve", {"market": {"name": "telecom"}, "seed": 1}, compute)  # the same question, keys reordered
    assert first == again == [1.0, 0.75, 0.5]
    assert compute.runs == 1
    (kept,) = kept_files(cache)
    assert json.loads(kept.read_text())["result"] == [1.0, 0.75, 0.5]


def test_other_arguments_or_other_code_compute_again(cache, monkeypatch):
    compute = Counter([1.0])
    remembered("curve", {"seed": 1}, compute)
    remembered("curve", {"seed": 2}, compute)
    remembered("other_kind", {"seed": 1}, compute)
    assert compute.runs == 3
    monkeypatch.setattr(result_cache, "code_version", lambda: "the code has changed")
    remembered("curve", {"seed": 1}, compute)
    assert compute.runs == 4


def test_the_code_version_follows_the_package_source(tmp_path, monkeypatch):
    (tmp_path / "rules.py").write_text("RATE = 0.1\n")
    (tmp_path / "locales").mkdir()
    (tmp_path / "locales" / "it.json").write_text("{}")
    monkeypatch.setattr(result_cache, "PACKAGE", tmp_path)
    version = result_cache.code_version.__wrapped__
    before = version()
    (tmp_path / "locales" / "it.json").write_text('{"a": "b"}')  # a translation changes no number
    assert version() == before
    (tmp_path / "rules.py").write_text("RATE = 0.2\n")
    assert version() != before


def test_arguments_that_are_not_plain_json_are_never_kept(cache):
    compute = Counter([1.0])
    remembered("curve", {"strategy": object()}, compute)
    remembered("curve", {"strategy": object()}, compute)
    remembered("curve", {"rate": float("nan")}, compute)
    assert compute.runs == 3
    assert kept_files(cache) == []


def test_a_broken_file_is_computed_again_and_replaced(cache):
    remembered("curve", {"seed": 1}, Counter([1.0]))
    (kept,) = kept_files(cache)
    kept.write_text('{"result": [1.0, 0.')  # cut short
    compute = Counter([1.0, 0.9])
    assert remembered("curve", {"seed": 1}, compute) == [1.0, 0.9]
    assert compute.runs == 1
    assert json.loads(kept.read_text())["result"] == [1.0, 0.9]
    assert [p.name for p in kept.parent.iterdir() if p.suffix == ".tmp"] == []


def test_two_processes_asking_at_once_compute_it_once(cache, tmp_path):
    runs = tmp_path / "runs.txt"
    script = textwrap.dedent(f"""
        import time
        from simulations.result_cache import remembered

        def compute():
            with open({str(runs)!r}, "a") as out:
                out.write("ran\\n")
            time.sleep(1.0)
            return [1.0, 0.5]

        print(remembered("slow", {{"seed": 7}}, compute))
    """)
    env = {**os.environ, CACHE_FOLDER: str(cache), "PYTHONPATH": str(ROOT)}
    both = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0].strip() for p in both]
    assert outputs == ["[1.0, 0.5]", "[1.0, 0.5]"]
    assert runs.read_text().splitlines() == ["ran"]


def test_a_seeded_cohort_is_the_same_from_the_cache(cache, monkeypatch):
    simulated = cohort_survival("telecom", 2, seed=5, n_customers=600, lure_rate=0.1)
    assert len(kept_files(cache)) == 1

    def no_more_simulation(*args):
        raise AssertionError("simulated again")

    monkeypatch.setattr(calibration, "_simulate_cohort", no_more_simulation)
    assert cohort_survival("telecom", 2, seed=5, n_customers=600, lure_rate=0.1) == simulated
    with pytest.raises(AssertionError, match="simulated again"):  # another setting is another question
        cohort_survival("telecom", 2, seed=5, n_customers=600, lure_rate=0.2)


def test_the_cache_changes_no_cohort(cache, monkeypatch):
    kept = cohort_survival("utility", 3, seed=9, n_customers=800)
    monkeypatch.delenv(CACHE_FOLDER)
    assert cohort_survival("utility", 3, seed=9, n_customers=800) == kept


def test_an_unseeded_cohort_is_never_kept(cache):
    cohort_survival("telecom", 1, seed=None, n_customers=300)
    assert kept_files(cache) == []


def test_a_profit_table_is_the_same_from_the_cache(cache, monkeypatch):
    from simulations import tradeoffs

    strategies = {"balanced": "balanced", "neglect": "neglect"}
    played = tradeoffs.profit_table(strategies, markets=["telecom", "utility"], seeds=(1,), n_customers=300, months=6)

    def no_more_play(*args, **kwargs):
        raise AssertionError("played again")

    monkeypatch.setattr(tradeoffs, "run_many", no_more_play)
    again = tradeoffs.profit_table(strategies, markets=["telecom", "utility"], seeds=(1,), n_customers=300, months=6)
    assert again.equals(played)
    with pytest.raises(AssertionError, match="played again"):  # other seeds are another question
        tradeoffs.profit_table(strategies, markets=["telecom", "utility"], seeds=(2,), n_customers=300, months=6)


def test_a_new_version_of_the_code_removes_the_results_of_the_others(cache, monkeypatch):
    monkeypatch.setattr(result_cache, "_PRUNED", set())
    monkeypatch.setattr(result_cache, "code_version", lambda: "version-one-0000000")
    remembered("curve", {"seed": 1}, Counter([1.0]))
    remembered("curve", {"seed": 2}, Counter([0.5]))
    assert [p.name for p in cache.iterdir()] == ["version-one-0000"]
    monkeypatch.setattr(result_cache, "code_version", lambda: "version-two-0000000")
    compute = Counter([0.9])
    assert remembered("curve", {"seed": 1}, compute) == [0.9] and compute.runs == 1
    assert [p.name for p in cache.iterdir()] == ["version-two-0000"]
    assert len(kept_files(cache)) == 1


def test_an_unseeded_profit_table_is_played_and_never_kept(cache):
    from simulations import tradeoffs

    table = tradeoffs.profit_table({"balanced": "balanced"}, markets=["telecom"], seeds=(None,), n_customers=200,
                                   months=3)
    assert table.shape == (1, 1)
    assert kept_files(cache) == []
