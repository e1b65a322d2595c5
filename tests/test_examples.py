"""The runnable examples (examples/*.py, also the documentation's tutorials) run end to end with --tiny."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# script -> (takes --out, a line its output must contain)
CASES = {
    "01_generate_dataset.py": (True, "saved and reloaded 16 trajectories of bfs"),
    "02_train_and_evaluate.py": (True, "fresh set at n = 32"),
    "03_predict_own_graph.py": (True, "predicted BFS tree of the grid"),
    "04_generalist.py": (True, "mean test score"),
    "05_dear.py": (True, "DEAR processor applications"),
    "06_exact_verification.py": (False, "bfs (ntk): 10/10 graphs exact"),
    "07_blueprint.py": (False, "pretrained, frozen: test at n = 16: parent accuracy"),
    "08_local_algorithm.py": (False, "two_colouring (ntk): 10/10 graphs exact"),
}


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs_tiny(script, tmp_path):
    takes_out, expected = CASES[script]
    cmd = [sys.executable, str(EXAMPLES / script), "--tiny"]
    if takes_out:
        cmd += ["--out", str(tmp_path / "out")]
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert expected in proc.stdout, proc.stdout[-2000:]
