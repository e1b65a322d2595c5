"""Registry of algorithms: name -> the traced function and its argument names."""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from ..specs import CLRS_30_ALGS, SPECS
from ..trace import Trajectory
from ..validation import UnknownNameError


@dataclass(frozen=True)
class Algorithm:
    name: str
    fn: Callable[..., Trajectory]
    family: str
    arguments: tuple[str, ...]


_REGISTRY: dict[str, Algorithm] = {}


def register(name: str, family: str):
    """Register ``fn`` as the traced implementation of CLRS algorithm ``name``."""
    if name not in SPECS:
        raise KeyError(f"no CLRS spec for {name!r}")

    def deco(fn):
        args = tuple(inspect.signature(fn).parameters)
        _REGISTRY[name] = Algorithm(name, fn, family, args)
        return fn

    return deco


def unknown_name_error(name) -> UnknownNameError:
    """An :class:`~nar.validation.InputError` (also a ``KeyError``) naming ``name``, its close
    matches and every valid name."""
    import difflib

    close = difflib.get_close_matches(name, CLRS_30_ALGS, n=3, cutoff=0.6) if isinstance(name, str) else []
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return UnknownNameError(f"unknown algorithm {name!r}; {hint}valid names are: {', '.join(CLRS_30_ALGS)}")


def get_algorithm(name: str) -> Algorithm:
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        if isinstance(name, str) and name in SPECS:
            raise NotImplementedError(f"algorithm {name!r} has a spec but no implementation yet") from None
        raise unknown_name_error(name) from None


def registered() -> dict[str, Algorithm]:
    return dict(_REGISTRY)
