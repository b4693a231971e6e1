"""Evaluation: every system runs through OpenSearch; metrics by ir-measures; JSON/Markdown/PNG reports.

`evaluate_dataset(...)` (in `evaluate.api`) is the one call that does a dataset end to end.
"""

from lightretriever.evaluate.api import evaluate_dataset
from lightretriever.evaluate.dataset import Dataset, load_dataset
from lightretriever.evaluate.systems import ALL_SYSTEMS, register_system

__all__ = ["ALL_SYSTEMS", "Dataset", "evaluate_dataset", "load_dataset", "register_system"]
