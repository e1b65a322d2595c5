"""CLRS-30 divide_and_conquer algorithms, traced with :class:`nar.trace.Tracer`."""
from __future__ import annotations
