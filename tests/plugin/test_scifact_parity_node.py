"""The plugin's server-side encoding + fusion equals the Python retriever on SciFact (real node, MiniLM bundle).

Target (issues 7 and 13): top-10 ids equal and scores within 1e-5 for every SciFact test query, on 1 shard
and on 3 (the plugin fuses globally, on the coordinating node, as the Python client does). The index holds a
cached, encoded sub-corpus (tests/plugin/corpus.py: every judged test document plus the first 700), since
agreement does not depend on corpus size; docs/runs/plugin-results.md has the full-corpus run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fixtures.bundle import add_learned_fusion
from lightretriever.bundle import Bundle
from lightretriever.evaluate.dataset import load_dataset
from lightretriever.plugin import delete_model, upload_bundle
from lightretriever.plugin.parity import compare

from .corpus import encoded_corpus, index_corpus

pytestmark = [pytest.mark.node, pytest.mark.slow]

TOLERANCE = 1e-5


@pytest.fixture(scope="module", params=[1, 3], ids=["1-shard", "3-shards"])
def scifact_setup(request, plugin_node, minilm_bundle, scifact_dir, tmp_path_factory):
    shards = request.param
    bundle = Bundle.load(minilm_bundle)
    # a copy carrying a small learned fusion model (the shared test-vector model: dense, sparse, bm25; depth 50)
    learned_dir = add_learned_fusion(shutil.copytree(minilm_bundle, tmp_path_factory.mktemp("bundle") / "learned"))
    learned = Bundle.load(learned_dir)
    index = f"test-plugin-parity-{Path(minilm_bundle).name}-{shards}".lower()
    plugin_node.indices.delete(index=index, ignore_unavailable=True)
    index_corpus(plugin_node, index, encoded_corpus(Path(minilm_bundle), scifact_dir), bundle.dense_dim, shards=shards)
    models = [upload_bundle(plugin_node, minilm_bundle, "test-parity-minilm", force=True)["name"],
              upload_bundle(plugin_node, learned_dir, "test-parity-minilm-learned", force=True)["name"]]
    queries = list(load_dataset(scifact_dir, "test").queries.values())
    yield {"index": index, "bundle": bundle, "learned": learned, "models": models, "queries": queries}
    plugin_node.indices.delete(index=index, ignore_unavailable=True)
    for model in models:
        delete_model(plugin_node, model)


def test_linear_top10_equals_python_on_all_scifact_test_queries(plugin_node, scifact_setup):
    queries = scifact_setup["queries"]
    assert len(queries) == 300
    report = compare(plugin_node, scifact_setup["index"], scifact_setup["bundle"], scifact_setup["models"][0], queries, "linear",
                     tolerance=TOLERANCE)
    assert report.share == 1.0, f"{report.share:.3f} agreement; first misses:\n" + "\n".join(report.misses)


def test_rrf_top10_equals_python(plugin_node, scifact_setup):
    report = compare(plugin_node, scifact_setup["index"], scifact_setup["bundle"], scifact_setup["models"][0],
                     scifact_setup["queries"][:60], "rrf", tolerance=TOLERANCE)
    assert report.share == 1.0, f"{report.share:.3f} agreement; first misses:\n" + "\n".join(report.misses)


def test_learned_top10_equals_python(plugin_node, scifact_setup):
    report = compare(plugin_node, scifact_setup["index"], scifact_setup["learned"], scifact_setup["models"][1],
                     scifact_setup["queries"][:60], "learned", tolerance=TOLERANCE)
    assert report.share == 1.0, f"{report.share:.3f} agreement; first misses:\n" + "\n".join(report.misses)
