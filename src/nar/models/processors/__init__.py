"""Processors by name: ``build_processor(name, hidden, **options)``; one module per processor."""
from . import (deepsets, forgetnet, gat, gatv2, memnet, mpnn, pgn, relational_transformer,  # noqa: F401
               triplet_gmpnn, triplet_mpnn, variants)  # (register)
from .base import (MODIFIERS, PROCESSORS, DenseMemoryError, Processor, device_memory_bytes, build_processor,
                   check_dense_memory, list_processors, register_modifier, register_processor)

__all__ = ["MODIFIERS", "PROCESSORS", "DenseMemoryError", "Processor", "device_memory_bytes", "build_processor",
           "check_dense_memory", "list_processors", "register_modifier", "register_processor"]
