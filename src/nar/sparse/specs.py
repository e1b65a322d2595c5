"""Probe tables of the two SALSA-CLRS algorithms that are not in CLRS-30 (``fast_mis``,
``eccentricity``), with the probe names, stages, locations and types of SALSA-CLRS's
``salsaclrs/specs.py``, and :func:`spec_of`, the lookup the sparse layer uses for every algorithm."""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from ..specs import SPECS, Location, Probe, Spec, Stage, Type
from ..validation import UnknownNameError


def _table(*rows: tuple[str, str, str, str]) -> Spec:
    return MappingProxyType({k: Probe(Stage(s), Location(l), Type(t)) for k, s, l, t in rows})


SALSA_SPECS: Mapping[str, Spec] = MappingProxyType({
    "fast_mis": _table(
        ("pos", "input", "node", "scalar"),
        ("randomness", "input", "node", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("inmis", "output", "node", "mask"),
        ("Ain_h", "hint", "edge", "mask"),
        ("alive_h", "hint", "node", "mask"),
        ("inmis_h", "hint", "node", "mask"),
        ("phase_h", "hint", "graph", "mask"),
    ),
    "eccentricity": _table(
        ("pos", "input", "node", "scalar"),
        ("adj", "input", "edge", "mask"),
        ("A", "input", "edge", "scalar"),
        ("s", "input", "node", "mask_one"),
        ("eccentricity", "output", "graph", "scalar"),
        ("visited_h", "hint", "node", "mask"),
        ("msgphase_h", "hint", "node", "mask"),
        ("floodstate_h", "hint", "node", "scalar"),
        ("echostate_h", "hint", "node", "scalar"),
        ("tree_h", "hint", "edge", "mask"),
        ("leaf_h", "hint", "node", "mask"),
        ("eccentricity_h", "hint", "graph", "scalar"),
    ),
})


def spec_of(name: str) -> Spec:
    """The probe table of a CLRS-30 or SALSA-CLRS algorithm."""
    spec = SPECS.get(name) if isinstance(name, str) else None
    if spec is None:
        spec = SALSA_SPECS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise UnknownNameError(f"unknown algorithm {name!r}")
    return spec
