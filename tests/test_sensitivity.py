"""Sobol sensitivity analysis (`simulations.sensitivity`, `loyalty-lab sensitivity`): the same seed gives the same
indices wherever the runs happen, the indices find what the model really does, and bad input is named."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulations import sensitivity
from simulations.cli import main
from simulations.parameters import LEVERS_BY_NAME, SETTINGS_BY_NAME

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(scenario="telecom", levers="frontline_care,price_index,service_lead", outcomes=["profit", "retention_12m"],
             samples=8, n_customers=200, months=12)
CLI_SMALL = ["--customers", "200", "--months", "12", "--samples", "8"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _one_line_error(captured, *fragments):
    """Bad input: nothing on standard output, one line on the error stream naming what was wrong, no traceback."""
    assert captured.out == ""
    err = captured.err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# ---------------------------------------------------------------------------------------------- the design
def test_factor_ranges_come_from_the_parameter_spec():
    for name in ("frontline_care", "price_index", "competitive_intensity", "spend_median"):
        spec = LEVERS_BY_NAME.get(name) or SETTINGS_BY_NAME.get(name)
        factor = sensitivity.make_factor(name)
        assert (factor.low, factor.high) == (spec.min, spec.max)
    assert sensitivity.parse_factors("price_index=0.9:1.1,cross_sell")[0].high == 1.1


def test_each_run_has_its_own_seed_from_the_analysis_seed_and_its_index():
    factors = sensitivity.parse_factors("frontline_care,max_products")
    rows = sensitivity.design(factors, 8, seed=5)
    tasks = sensitivity.make_tasks("telecom", factors, rows, 5, 100, 3)
    assert len(tasks) == 8 * (2 + 2)
    seeds = [t["seed"] for t in tasks]
    assert len(set(seeds)) == len(seeds)
    assert seeds == [sensitivity.evaluation_seed(5, i) for i in range(len(tasks))]
    assert all(isinstance(t["scenario"]["max_products"], int) for t in tasks)  # a whole-number setting stays whole
    assert {t["strategy"].frontline_care for t in tasks} == set(rows[:, 0])


def test_outcomes_are_the_numeric_outcomes_of_a_run():
    names = sensitivity.numeric_outcomes()
    assert {"profit", "retention_12m", "mean_satisfaction", "nps"} <= set(names)


# ---------------------------------------------------------------------------------------------- same seed, same indices
@pytest.mark.slow
def test_same_seed_same_indices_on_a_two_worker_local_cluster_and_in_one_process():
    in_process = sensitivity.sobol_indices(seed=3, workers=0, **SMALL)
    on_cluster = sensitivity.sobol_indices(seed=3, workers=2, **SMALL)
    assert list(in_process.columns) == list(sensitivity.CSV_COLUMNS)
    assert len(in_process) == 3 * 2  # levers x outcomes
    assert np.isfinite(in_process[["S1", "ST"]].to_numpy()).all()
    pd.testing.assert_frame_equal(in_process, on_cluster, check_exact=True)


def test_different_seeds_give_different_indices():
    small = {**SMALL, "levers": "frontline_care,price_index"}
    first = sensitivity.sobol_indices(seed=1, workers=0, **small)
    again = sensitivity.sobol_indices(seed=1, workers=0, **small)
    other = sensitivity.sobol_indices(seed=2, workers=0, **small)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert not np.allclose(first["ST"], other["ST"])


# ---------------------------------------------------------------------------------------------- a known answer
@pytest.mark.slow
def test_indices_find_what_the_model_really_does():
    """The fixed cost is booked as a cost and touches no customer (model.py `_begin_month_totals`): it must drive
    profit and leave satisfaction alone, where product quality, which every customer experiences, drives both.
    Each run has its own seed, so the seed noise gives even the fixed cost a small ST on satisfaction (0.003-0.007
    on seeds 1-5), far below product quality's (0.6-1.1)."""
    table = sensitivity.sobol_indices("telecom", "frontline_care,product_quality,fixed_cost=0:10",
                                      ["profit", "mean_satisfaction"], samples=16, seed=1, n_customers=200,
                                      months=12, workers=0)
    st = table.set_index(["outcome", "lever"])["ST"]
    assert st["mean_satisfaction", "fixed_cost"] < 0.02
    assert st["mean_satisfaction", "product_quality"] > 0.5
    assert st["mean_satisfaction", "fixed_cost"] < st["mean_satisfaction", "product_quality"] / 20
    assert st["profit"].idxmax() == "fixed_cost"
    assert st["profit", "fixed_cost"] > 0.5


# ---------------------------------------------------------------------------------------------- the command
def test_command_writes_the_csv_and_the_chart(tmp_path, capsys):
    args = ["sensitivity", "telecom", "--levers", "frontline_care,cross_sell", "--outcome", "profit,nps",
            "--workers", "0", "--seed", "4", "--out", "sens", *CLI_SMALL]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Sobol indices on telecom" in out and "Wrote to sens/" in out
    table = pd.read_csv(tmp_path / "sens" / "sensitivity.csv")
    assert list(table.columns) == ["lever", "outcome", "S1", "S1_conf", "ST", "ST_conf"]
    assert list(table["lever"]) == ["frontline_care", "cross_sell"] * 2
    assert list(table["outcome"]) == ["profit", "profit", "nps", "nps"]
    png = (tmp_path / "sens" / "sensitivity.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sens")]  # no staging folder left behind


def test_an_existing_folder_needs_force_and_keeps_other_files(tmp_path, capsys):
    folder = tmp_path / "sens"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    args = ["sensitivity", "telecom", "--levers", "frontline_care,cross_sell", "--workers", "0", "--out", "sens",
            *CLI_SMALL]
    assert main(args) == 2
    _one_line_error(capsys.readouterr(), "--out", "--force")
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert main(args + ["--force"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "sensitivity.csv", "sensitivity.png"]


@pytest.mark.parametrize("args, fragments", [
    (["nowhere", "--levers", "frontline_care,cross_sell"], ["nowhere", "known markets", "telecom"]),
    (["telecom", "--levers", "frontline_care,frontlinecare"], ["frontlinecare", "allowed fields"]),
    (["telecom", "--levers", "frontline_care,loyalty_programme"], ["levers", "loyalty_programme", "numeric"]),
    (["telecom", "--levers", "frontline_care"], ["levers", "at least two"]),
    (["telecom", "--levers", "frontline_care,frontline_care"], ["levers", "each lever once"]),
    (["telecom", "--levers", "frontline_care,price_index=0.5:1.1"], ["price_index", "0.5:1.1", "0.7 to 1.3"]),
    (["telecom", "--levers", "gold_cutoff,iron_cutoff"], ["iron_cutoff", "narrower ranges"]),
    (["telecom", "--levers", "frontline_care,cross_sell", "--outcome", "profits"], ["outcome", "profits", "retention_12m"]),
    (["telecom", "--levers", "frontline_care,cross_sell", "--samples", "12"], ["--samples", "'12'", "power of two"]),
    (["telecom", "--levers", "frontline_care,cross_sell", "--samples", "4"], ["--samples", "'4'", "from 8 to 8192"]),
    (["telecom", "--levers", "frontline_care,cross_sell", "--samples", "many"], ["--samples", "'many'", "power of two"]),
    (["telecom", "--levers", "frontline_care,cross_sell", "--workers", "-1"], ["--workers", "'-1'", "from 0 to 64"]),
])
def test_bad_input_is_one_line_naming_the_field_and_exit_2(args, fragments, tmp_path, capsys):
    assert main(["sensitivity", *args, "--out", "sens", *CLI_SMALL[:4]]) == 2
    _one_line_error(capsys.readouterr(), *fragments)
    assert not (tmp_path / "sens").exists()


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sensitivity, "CONNECT_TIMEOUT", 2)
    address = "tcp://127.0.0.1:9"  # the discard port: nothing listens there
    assert main(["sensitivity", "telecom", "--levers", "frontline_care,cross_sell", "--scheduler", address,
                 "--out", "sens", *CLI_SMALL]) == 2
    _one_line_error(capsys.readouterr(), "scheduler", address, "could not connect")
    assert not (tmp_path / "sens").exists()


# ---------------------------------------------------------------------------------------------- a real cluster
def _start(args, env, log):
    return subprocess.Popen([sys.executable, "-m", "dask", *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=ROOT)


def _stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.mark.slow
def test_the_command_runs_on_a_dask_scheduler_and_worker_started_apart(tmp_path, capsys, monkeypatch):
    """`dask scheduler` and `dask worker` as separate processes on 127.0.0.1, as the README shows; the indices
    equal those of a run in this process. Before the worker starts, the command says the scheduler has none."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    scheduler_file = tmp_path / "scheduler.json"
    processes = []
    with open(tmp_path / "dask.log", "w") as log:
        try:
            processes.append(_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                     "--scheduler-file", str(scheduler_file)], env, log))
            deadline = time.monotonic() + 60
            while not scheduler_file.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert scheduler_file.exists(), (tmp_path / "dask.log").read_text()
            address = json.loads(scheduler_file.read_text())["address"]
            assert address.startswith("tcp://127.0.0.1:")
            args = ["sensitivity", "telecom", "--levers", "frontline_care,price_index", "--seed", "7", *CLI_SMALL]
            monkeypatch.setattr(sensitivity, "WORKER_TIMEOUT", 1)
            assert main(args + ["--scheduler", address, "--out", "cluster"]) == 2
            _one_line_error(capsys.readouterr(), "scheduler", address, "no worker after 1 s", "dask worker")
            monkeypatch.setattr(sensitivity, "WORKER_TIMEOUT", 120)  # a worker starting on a loaded machine is slow
            processes.append(_start(["worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                                     "--host", "127.0.0.1"], env, log))
            assert main(args + ["--scheduler", address, "--out", "cluster"]) == 0
            assert f"the Dask cluster at {address}" in capsys.readouterr().out
        finally:
            for process in reversed(processes):
                _stop(process)
    assert main(args + ["--workers", "0", "--out", "local"]) == 0
    cluster, local = (pd.read_csv(tmp_path / name / "sensitivity.csv") for name in ("cluster", "local"))
    pd.testing.assert_frame_equal(cluster, local, check_exact=True)


class _FakeClient:
    """Stands in for a Dask client whose workers answer `run` with the given digests (or fail to import)."""

    def __init__(self, answer):
        self.answer = answer

    def run(self, function):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_a_cluster_running_other_model_code_is_refused_by_name():
    ours = sensitivity.model_fingerprint()
    sensitivity._check_same_model(_FakeClient({"tcp://127.0.0.1:4001": ours}), "tcp://127.0.0.1:8786")
    with pytest.raises(sensitivity.LoyaltyLabError, match="tcp://127.0.0.1:4002 run a different version"):
        sensitivity._check_same_model(_FakeClient({"tcp://127.0.0.1:4001": ours, "tcp://127.0.0.1:4002": "0" * 64}),
                                      "tcp://127.0.0.1:8786")
    missing = Exception("ModuleNotFoundError(\"No module named 'simulations.sensitivity'\")")
    with pytest.raises(sensitivity.LoyaltyLabError, match="cannot import the model .*simulations.sensitivity"):
        sensitivity._check_same_model(_FakeClient(missing), "tcp://127.0.0.1:8786")
