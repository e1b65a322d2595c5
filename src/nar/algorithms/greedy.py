"""CLRS-30 greedy algorithms, traced with :class:`nar.trace.Tracer`."""
from __future__ import annotations
