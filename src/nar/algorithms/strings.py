"""CLRS-30 strings algorithms, traced with :class:`nar.trace.Tracer`."""
from __future__ import annotations
