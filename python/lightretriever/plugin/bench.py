"""The plugin as systems of the evaluation/bench registry (`plugin-linear`, `plugin-rrf`, `plugin-learned`).

    python bench/search.py ... --register lightretriever.plugin.bench:register_bench_systems \
        --systems plugin-linear,hybrid-linear,full-dense

`plugin-<fusion>` fuses globally (the node's default); `plugin-<fusion>-shard` fuses per shard (the old path).

The context's bundle is uploaded once (skipped when the node already holds the same files).
"""

from __future__ import annotations

from collections.abc import Mapping

from lightretriever.evaluate.systems import EvalContext, SystemRun
from lightretriever.fuse.registry import NAMES as FUSIONS
from lightretriever.plugin.query import request_body, search
from lightretriever.plugin.registry import model_name_for, upload_bundle
from lightretriever.plugin.stats import EncodeTotals, encode_totals


class PluginSystem:
    """Server-side encoding and fusion: the client sends text, the node returns fused hits."""

    def __init__(self, name: str, context: EvalContext, fusion: str, scope: str | None = None):
        self.name = name
        self.context = context
        self.fusion = fusion
        self.scope = scope
        self.model = model_name_for(context.bundle.path)
        upload_bundle(context.client, context.bundle.path, self.model)

    def request_body(self, text: str, k: int, filter: Mapping | None = None) -> dict:
        """This system's `_search` body, for clients that send it themselves (the asyncio bench)."""
        return request_body(text, self.model, max(k, self.context.depth), k, self.fusion, filter, scope=self.scope)

    def search(self, text: str, k: int, filter: Mapping | None = None) -> SystemRun:
        depth = max(k, self.context.depth)
        ranked = search(self.context.client, self.context.index, self.model, text, depth, k, self.fusion, filter, scope=self.scope)
        # encoding happens inside the node: per query it is unknown here, over a run see encode_totals()
        return SystemRun(ranked, None, self.fusion, encode_cpu_seconds=None)

    def encode_totals(self) -> EncodeTotals:
        """The node's encoding counters; a benchmark takes their difference over its run."""
        return encode_totals(self.context.client)


def register_bench_systems(register_system) -> None:
    for fusion in FUSIONS:
        register_system(f"plugin-{fusion}", lambda context, f=fusion: PluginSystem(f"plugin-{f}", context, f))
        register_system(f"plugin-{fusion}-shard", lambda context, f=fusion: PluginSystem(f"plugin-{f}-shard", context, f, "shard"))
