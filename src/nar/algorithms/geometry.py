"""CLRS-30 geometry algorithms, traced with :class:`nar.trace.Tracer`."""
from __future__ import annotations
