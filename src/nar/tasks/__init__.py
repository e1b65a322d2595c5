"""Downstream tasks for the NAR blueprint (:mod:`nar.blueprint`): raw, noisy inputs whose solution is an
algorithm run on quantities no model is told.

    from nar.tasks import routing
    data = routing.make_dataset(32, n=16, kind="mixed", seed=0)
"""
from . import routing

__all__ = ["routing"]
