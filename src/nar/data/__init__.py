"""Trajectories -> padded batches, on-the-fly datasets, fixed splits on disk, PyG export."""
from .batch import Batch, collate
from .dataset import OnTheFlyDataset
from .pyg import to_pyg, to_pyg_dict
from .splits import CLRS30_SPLITS, SplitError, SplitSpec, load_split, split_params, write_splits
from .store import TrajectoryFileError, load_trajectories, read_metadata, save_trajectories

__all__ = [
    "Batch",
    "CLRS30_SPLITS",
    "OnTheFlyDataset",
    "SplitError",
    "SplitSpec",
    "TrajectoryFileError",
    "collate",
    "load_split",
    "load_trajectories",
    "read_metadata",
    "save_trajectories",
    "split_params",
    "to_pyg",
    "to_pyg_dict",
    "write_splits",
]
