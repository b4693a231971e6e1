"""The plugin's server-side fusion equals the Python retriever on SciFact (real node, real MiniLM bundle).

Target (issue 7): top-10 ids equal, scores within 1e-3, for >= 99% of the SciFact test queries.
The corpus is encoded once per bundle and cached (tests/plugin/corpus.py); later runs only bulk-index it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lightretriever.bundle import Bundle
from lightretriever.evaluate.dataset import load_dataset
from lightretriever.plugin import delete_model, search, upload_bundle
from lightretriever.retriever import Retriever
from lightretriever.rewrite.rewriter import SYSTEMS

from .corpus import encoded_corpus, index_corpus

pytestmark = [pytest.mark.node, pytest.mark.slow]

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
DEPTH = 100


@pytest.fixture(scope="module")
def scifact_setup(plugin_node, minilm_bundle, scifact_dir, tmp_path_factory):
    bundle = Bundle.load(minilm_bundle)
    # a copy with a small learned fusion model (the shared test-vector model: dense, sparse, bm25; depth 50)
    learned_dir = tmp_path_factory.mktemp("bundle") / "learned"
    shutil.copytree(minilm_bundle, learned_dir)
    learned = Bundle.load(learned_dir)
    learned.add_file("fusion/learned.txt", VECTORS / "fusion" / "learned.txt")
    learned.update_section("fusion.learned", {
        "model_file": "fusion/learned.txt", "systems": ["dense", "sparse", "bm25"],
        "features": [f"{s}_{f}" for s in ("dense", "sparse", "bm25") for f in ("score", "rank", "minmax", "z", "present")]
        + ["query_len", "oov_share"], "depth": 50})
    learned = Bundle.load(learned_dir)
    index = f"plugin-parity-{Path(minilm_bundle).name}".lower()
    plugin_node.indices.delete(index=index, ignore=[404])
    index_corpus(plugin_node, index, encoded_corpus(Path(minilm_bundle), scifact_dir / "corpus.jsonl"), bundle.dense_dim)
    model = upload_bundle(plugin_node, minilm_bundle, "parity-minilm", force=True)["name"]
    learned_model = upload_bundle(plugin_node, learned_dir, "parity-minilm-learned", force=True)["name"]
    queries = list(load_dataset(scifact_dir, "test").queries.values())
    yield {"index": index, "bundle": bundle, "learned": learned, "model": model, "learned_model": learned_model, "queries": queries}
    plugin_node.indices.delete(index=index, ignore=[404])
    delete_model(plugin_node, model)
    delete_model(plugin_node, learned_model)


def _agreement(client, setup, bundle, model, fusion, systems, queries) -> tuple[float, list[str]]:
    retriever = Retriever(client, setup["index"], bundle, systems=systems, fusion=fusion, depth=DEPTH)
    same, misses = 0, []
    for text in queries:
        python = [(h.doc_id, h.score) for h in retriever.search(text, 10)]
        plugin = search(client, setup["index"], model, text, k=DEPTH, size=10, fusion=fusion)
        ids_equal = [d for d, _ in python] == [d for d, _ in plugin]
        scores_close = ids_equal and all(abs(a - b) <= 1e-3 for (_, a), (_, b) in zip(python, plugin))
        if scores_close:
            same += 1
        else:
            misses.append(f"{text!r}\n  python {python}\n  plugin {plugin}")
    return same / len(queries), misses


def test_linear_top10_equals_python_on_scifact_test(plugin_node, scifact_setup):
    queries = scifact_setup["queries"]
    assert len(queries) == 300
    share, misses = _agreement(plugin_node, scifact_setup, scifact_setup["bundle"], scifact_setup["model"], "linear",
                               ("dense", "sparse"), queries)
    assert share >= 0.99, f"{share:.3f} agreement; first misses:\n" + "\n".join(misses[:3])


def test_rrf_top10_equals_python(plugin_node, scifact_setup):
    share, misses = _agreement(plugin_node, scifact_setup, scifact_setup["bundle"], scifact_setup["model"], "rrf",
                               SYSTEMS, scifact_setup["queries"][:60])
    assert share >= 0.99, f"{share:.3f} agreement; first misses:\n" + "\n".join(misses[:3])


def test_learned_top10_equals_python(plugin_node, scifact_setup):
    share, misses = _agreement(plugin_node, scifact_setup, scifact_setup["learned"], scifact_setup["learned_model"],
                               "learned", SYSTEMS, scifact_setup["queries"][:60])
    assert share >= 0.99, f"{share:.3f} agreement; first misses:\n" + "\n".join(misses[:3])
