"""Evaluation: every system runs through OpenSearch; metrics by ir-measures; JSON/Markdown/PNG reports.

`evaluate_dataset(...)` (in `evaluate.api`) is the one call that does a dataset end to end. It is imported
on first use, so that the BEIR reader (`evaluate.dataset`, which training also uses) does not pull in
ir-measures and the report's plotting.
"""

from lightretriever.evaluate.dataset import Dataset, load_dataset
from lightretriever.evaluate.systems import ALL_SYSTEMS, register_system

__all__ = ["ALL_SYSTEMS", "Dataset", "evaluate_dataset", "load_dataset", "register_system"]


def __getattr__(name: str):
    if name == "evaluate_dataset":
        from lightretriever.evaluate.api import evaluate_dataset

        return evaluate_dataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
