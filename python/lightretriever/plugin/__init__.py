"""Client of the OpenSearch plugin: upload a bundle to its model registry, run a `lightretriever` query.

    from lightretriever.plugin import upload_bundle, search
    upload_bundle(client, "bundles/minilm", "minilm")
    hits = search(client, "scifact", "minilm", "p53 and cancer", k=100, size=10, fusion="linear")
    # -> [(doc_id, fused_score), ...] best first, scores computed by the node

No torch, no numpy: the node encodes the text and fuses.
"""

from lightretriever.plugin.query import PluginResult, lightretriever_clause, search, search_result
from lightretriever.plugin.registry import (
    MODELS_PATH,
    bundle_payload,
    delete_model,
    get_model,
    model_name_for,
    upload_bundle,
)

__all__ = [
    "MODELS_PATH",
    "PluginResult",
    "bundle_payload",
    "delete_model",
    "get_model",
    "lightretriever_clause",
    "model_name_for",
    "search",
    "search_result",
    "upload_bundle",
]
