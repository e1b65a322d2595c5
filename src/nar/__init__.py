"""nar: neural algorithmic reasoning in PyTorch (CLRS-30 data, learned, equilibrium and exact reasoners)."""
from .api import execute, get_spec, iter_samples, list_algorithms, sample
from .specs import Location, Probe, Stage, Type
from .trace import Trajectory
from .validation import InputError

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "Location",
    "Probe",
    "Stage",
    "Trajectory",
    "Type",
    "execute",
    "get_spec",
    "iter_samples",
    "list_algorithms",
    "sample",
]
