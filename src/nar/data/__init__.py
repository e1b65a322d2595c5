"""Trajectories -> padded batches, on-the-fly datasets, fixed splits on disk, PyG export."""
from .batch import Batch, collate

__all__ = ["Batch", "collate"]
