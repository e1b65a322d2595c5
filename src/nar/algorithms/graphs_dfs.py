"""CLRS-30 depth-first-search based graph algorithms (CLRS ch. 22, 24.2), traced with :class:`nar.trace.Tracer`."""
from __future__ import annotations
