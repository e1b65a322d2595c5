"""The package's layers import downwards only (no cycles, not even lazy imports inside functions).

``nar.models`` is below ``nar.train``: the trainer builds and loads models, a model never loads runs.
"""
import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "nar"

# package -> packages it must never import (directly or lazily)
FORBIDDEN = {
    "models": ("train", "cli", "pretrained", "tasks"),
    "data": ("models", "train", "cli", "pretrained", "tasks"),
    "algorithms": ("models", "train", "data", "cli"),
    "batched": ("models", "train", "data", "cli"),
}


def imported_packages(path: Path, source: str | None = None) -> set[str]:
    """First-level ``nar`` subpackages imported anywhere in ``path`` (relative or absolute imports);
    ``source``: the text to parse instead of the file's."""
    tree = ast.parse(path.read_text() if source is None else source)
    depth = len(path.relative_to(SRC).parts) - 1  # how many packages deep under nar/
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] == "nar" and len(parts) > 1:
                    found.add(parts[1])
            else:
                up = node.level - 1  # levels above the module's own package
                base = list(path.relative_to(SRC).parts[:-1])[: max(depth - up, 0)]
                parts = base + (node.module.split(".") if node.module else [a.name for a in node.names])
                if parts:
                    found.add(parts[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "nar" and len(parts) > 1:
                    found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_never_import_higher_ones(package):
    offenders = {}
    for path in sorted((SRC / package).rglob("*.py")):
        bad = imported_packages(path) & set(FORBIDDEN[package])
        if bad:
            offenders[str(path.relative_to(SRC))] = sorted(bad)
    assert not offenders, f"layering broken (module -> higher layers it imports): {offenders}"


def test_the_checker_sees_lazy_relative_and_absolute_imports():
    # the cycle this file guards against (models/deq.py -> train/inference.py) was a lazy import in a method
    deq = SRC / "models" / "deq.py"
    assert "train" not in imported_packages(deq)
    assert "train" in imported_packages(deq, "def f():\n    from ..train.inference import load\n")
    assert "train" in imported_packages(deq, "import nar.train.loop\n")
    assert imported_packages(deq, "from . import reasoner\n") == {"models"}
    assert imported_packages(SRC / "models" / "processors" / "gat.py", "from ..layers import x\n") == {"models"}
