"""Processors by name: ``build_processor(name, hidden, **options)``; one module per processor."""
from . import deepsets, gat, gatv2, memnet, mpnn, pgn, triplet_gmpnn, triplet_mpnn, variants  # noqa: F401  (register)
from .base import (PROCESSORS, DenseMemoryError, Processor, device_memory_bytes, build_processor,
                   check_dense_memory, list_processors, register_processor)

__all__ = ["PROCESSORS", "DenseMemoryError", "Processor", "device_memory_bytes", "build_processor",
           "check_dense_memory", "list_processors", "register_processor"]
