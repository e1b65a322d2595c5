"""nar: neural algorithmic reasoning in PyTorch (CLRS-30 data, learned, equilibrium and exact reasoners)."""
from .api import execute, get_spec, graph_nodes, iter_samples, list_algorithms, sample, to_labels
from .specs import Location, Probe, Stage, Type
from .trace import Trajectory
from .validation import InputError

__version__ = "0.1.0"

_SUBMODULES = ("data", "models", "train", "exact", "viz", "blueprint", "pretrained", "tasks")


def __getattr__(name: str):
    """Import the torch-heavy sub-packages (``nar.data``, ``nar.models``, ...) on first use."""
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "load":  # nar.load(CHECKPOINT) -> a trained model with .predict(name, **inputs)
        return importlib.import_module(f"{__name__}.train").load
    raise AttributeError(f"module 'nar' has no attribute {name!r}")

__all__ = [
    "InputError",
    "Location",
    "Probe",
    "Stage",
    "Trajectory",
    "Type",
    "execute",
    "get_spec",
    "graph_nodes",
    "iter_samples",
    "load",
    "list_algorithms",
    "sample",
    "to_labels",
]
