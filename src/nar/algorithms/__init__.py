"""The 30 CLRS algorithms, one module per chapter family; importing registers them."""
from . import (  # noqa: F401  (imported for registration)
    divide_and_conquer,
    dynamic_programming,
    geometry,
    graphs,
    graphs_dfs,
    greedy,
    searching,
    sorting,
    strings,
)
from .registry import Algorithm, get_algorithm, register, registered

__all__ = ["Algorithm", "get_algorithm", "register", "registered"]
