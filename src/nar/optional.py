"""Optional dependencies: import them with an error that names the extra to install."""
from __future__ import annotations

import importlib

from .validation import InputError

EXTRAS = {"matplotlib": "viz", "torch_geometric": "pyg", "networkx": "test"}


class MissingDependencyError(InputError, ImportError):
    """An optional package that this feature needs is not installed."""


def require(module: str, purpose: str):
    """Import and return ``module``; if it is missing, say which ``pip install`` brings it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if exc.name and exc.name.split(".")[0] != top:
            raise
        extra = EXTRAS.get(top)
        hint = f"pip install 'torch-nar[{extra}]'" if extra else f"pip install {top}"
        raise MissingDependencyError(f"{purpose} needs the optional package {top!r}, which is not installed; "
                                     f"install it with: {hint}") from None
