"""The exact programs, by name: the hand-built ``flooding``, ``bfs``, ``dfs``, ``bellman_ford`` and
the LOCAL algorithms compiled by :mod:`nar.exact.local` (``leader``, ``components``, ``mis``,
``local_bfs``, ``greedy_colour``; see :mod:`nar.exact.programs.compiled`)."""
from __future__ import annotations

from .base import ExactProgram
from .bellman_ford import BellmanFord
from .bfs import BFS
from .compiled import COMPILED
from .dfs import DFS
from .flooding import Flooding

PROGRAMS: dict[str, type[ExactProgram]] = {"flooding": Flooding, "bfs": BFS, "bellman_ford": BellmanFord, "dfs": DFS,
                                           **COMPILED}


def get_program(name: str) -> type[ExactProgram]:
    from ...validation import InputError

    if name not in PROGRAMS:
        raise InputError(f"unknown exact program {name!r}; available: {', '.join(sorted(PROGRAMS))}")
    return PROGRAMS[name]


__all__ = ["ExactProgram", "PROGRAMS", "get_program"]
