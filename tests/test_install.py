"""`pip install .` alone gives a working course: the package declares what it imports (issue 12, part 2).

The slow test makes a fresh virtual environment in a temporary folder, installs the project into it WITHOUT
requirements.txt (pip's cache keeps it quick), and uses that environment's Python, from outside the source tree,
to run a market, grade a challenge and print the command line's help. The quick test reads every import in
simulations/ and exercises/ and checks that pyproject.toml declares the distribution it comes from.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from importlib import metadata

import pytest

from conftest import ROOT

PACKAGES = ("simulations", "exercises", "classroom")
PROJECT_FILES = ("pyproject.toml", "README.md", *PACKAGES)  # what `pip install .` reads
# Imports that come with Python or with a declared distribution under another name.
PROVIDED_BY = {"IPython": "ipywidgets", "matplotlib_inline": "ipywidgets", "solara": "mesa"}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *(r for extra in project.get("optional-dependencies", {}).values()
                                                  for r in extra)]
    return {normalized(re.match(r"[A-Za-z0-9_.-]+", r).group(0)) for r in requirements}


def third_party_imports() -> set[str]:
    """Top-level module names imported anywhere in the packages, other than the standard library and themselves."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in PACKAGES}


def test_pyproject_declares_every_distribution_the_packages_import():
    declared = declared_distributions()
    owners = metadata.packages_distributions()
    missing = []
    for module in sorted(third_party_imports()):
        distributions = {normalized(d) for d in owners.get(module, [module])}
        if not distributions & declared and normalized(PROVIDED_BY.get(module, "")) not in declared:
            missing.append(f"{module} (from {sorted(distributions)})")
    assert not missing, f"pyproject.toml does not declare: {missing}"


def test_dependencies_are_ranges_not_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = [r for r in project["dependencies"] if "==" in r]
    assert project["dependencies"] and not pinned, f"pin versions in requirements.txt, not in pyproject.toml: {pinned}"


SMOKE = textwrap.dedent("""
    import simulations, exercises
    from simulations import LoyaltyMarket
    from exercises import grade, list_challenges, load_quiz
    from exercises.quizzes import quiz_schema
    model = LoyaltyMarket(scenario="telecom", strategy="balanced", n_customers=300, seed=3).run(12)
    assert quiz_schema() and load_quiz("ch01")["questions"] and list_challenges()  # data files were installed
    result = grade("ch01_first_look", {"product_quality": 0.8})
    print("FROM", simulations.__file__, exercises.__file__)
    print("ACTIVE", model.summary()["active"])
    print("SCORE", result.score)
""")


@pytest.mark.slow
def test_pip_install_in_a_fresh_venv_runs_a_market_and_grades_a_challenge(tmp_path):
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env, timeout=300)
    python = venv / "bin" / "python"
    # a copy of the project: pip builds in the source folder, and the build must not need anything else from it
    source = tmp_path / "source"
    source.mkdir()
    for name in PROJECT_FILES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
                             capture_output=True, text=True, env=env, timeout=1800)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-4000:]

    run = subprocess.run([str(python), "-c", SMOKE], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines() if " " in line)
    assert str(venv) in lines["FROM"] and str(source) not in lines["FROM"], lines["FROM"]  # the installed copy
    assert int(lines["ACTIVE"]) > 0
    assert 0 <= float(lines["SCORE"]) <= 200

    cli = subprocess.run([str(venv / "bin" / "loyalty-lab"), "--help"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=300)
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert "usage: loyalty-lab" in cli.stdout and "grade" in cli.stdout


def test_every_data_file_of_the_packages_is_installed():
    """Files other than Python in the packages reach a pip install only through package-data (globbed as setuptools does)."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    missing = []
    for package in PACKAGES:
        covered = {path for pattern in package_data.get(package, []) for path in (ROOT / package).glob(pattern)}
        for path in (ROOT / package).rglob("*"):
            relative = path.relative_to(ROOT / package).as_posix()
            if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in relative or path.name == "README.md":
                continue
            if path not in covered:
                missing.append(f"{package}/{relative}")
    assert not missing, f"not in [tool.setuptools.package-data], so missing from an install: {missing}"
