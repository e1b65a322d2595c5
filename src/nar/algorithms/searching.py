"""CLRS-30 searching algorithms, traced with :class:`nar.trace.Tracer`."""
from __future__ import annotations
