"""Training, evaluation and inference of learned reasoners (the ``nar train | eval | report`` commands).

    from nar.train import TrainConfig, train, load
    results = train(TrainConfig(algorithms=["bfs"], steps=1000), "runs/bfs")   # writes runs/bfs/...
    model = load("runs/bfs")                         # best-validation weights (which="last": the last ones)
    model.predict("bfs", A=adjacency, s=0)                                   # {'pi': array([...])}
"""
from .checkpoint import CheckpointError
from .config import ConfigError, TrainConfig
from .evaluation import EvalResult, evaluate_checkpoint
from .inference import LoadedModel, load
from .loop import RunInUse, Trainer, TrainingDiverged, train
from .models import MODELS, build_model, register_model

__all__ = [
    "CheckpointError", "ConfigError", "EvalResult", "LoadedModel", "MODELS", "RunInUse", "TrainConfig", "Trainer",
    "TrainingDiverged", "build_model", "demo_run", "evaluate_checkpoint", "load", "register_model", "train",
]


def demo_run(out_dir="demo_out/bfs_reasoner", seconds: float = 120.0, **kwargs):
    """Train a small reasoner on bfs for about ``seconds`` on CPU, test it at n = 64, print the scores
    and write the learning curve (see :mod:`nar.train.demo`)."""
    from .demo import demo_run as run

    return run(out_dir, seconds=seconds, **kwargs)
