"""Every example in examples/ runs with --quick (each checks its own result and
exits non-zero when it is wrong: gradients against finite differences, a loss
that must fall tenfold, a controller that must approach its target)."""
import os
import pathlib
import subprocess
import sys

import pytest

from conftest import REPO

EXAMPLES = sorted((REPO / "examples").glob("*.py"))


def test_examples_exist():
    assert {p.name for p in EXAMPLES} >= {"run_scene.py", "landing_gradient.py", "optimize_throw.py", "gym_env.py"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example):
    env = dict(os.environ, OMP_NUM_THREADS="2")
    result = subprocess.run([sys.executable, str(example), "--quick"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"{example.name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert result.stdout.strip(), f"{example.name} printed nothing"
