"""Learning the LightGBM fusion model (training time only; applying it lives in `fuse.learned`)."""

from lightretriever.fuse.learn.dataset import QueryCandidates, TrainingSet, build_training_set
from lightretriever.fuse.learn.trainer import DEFAULT_PARAMS, cross_validate, train_lambdarank

__all__ = [
    "DEFAULT_PARAMS",
    "QueryCandidates",
    "TrainingSet",
    "build_training_set",
    "cross_validate",
    "train_lambdarank",
]
