"""CLRS-30 dynamic_programming algorithms, traced with :class:`nar.trace.Tracer`."""
from __future__ import annotations
