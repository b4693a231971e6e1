"""`lightretriever adapt` on a tiny ingested corpus, through a real node (issue 12): it lowers its loss,
it never opens judgments or queries of the collection, and the bundle it writes refuses an index that
another document encoder wrote (while accepting its own)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from lightretriever.bundle import Bundle
from lightretriever.errors import MappingError

pytestmark = [pytest.mark.node, pytest.mark.slow]

_OPENED: list[str] | None = None


def _audit(event: str, args) -> None:
    if event == "open" and _OPENED is not None and isinstance(args[0], (str, bytes, Path)):
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)  # audit hooks cannot be removed: it records only while _OPENED is a list


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory, scifact_dir, minilm_bundle, os_client):
    """The first 40 SciFact documents ingested with the MiniLM bundle, in a BEIR directory that also holds
    SciFact's queries and qrels (which adapt must never open)."""
    from lightretriever.ingest.job import JobConfig
    from lightretriever.ingest.setup import build_job

    root = tmp_path_factory.mktemp("tiny-beir")
    with open(scifact_dir / "corpus.jsonl", encoding="utf-8") as fh:
        lines = [next(fh) for _ in range(40)]
    (root / "corpus.jsonl").write_text("".join(lines), encoding="utf-8")
    shutil.copy(scifact_dir / "queries.jsonl", root / "queries.jsonl")
    shutil.copytree(scifact_dir / "qrels", root / "qrels")
    index = f"test-i12-adapt-{root.name.lower()}"
    os_client.indices.delete(index=index, ignore_unavailable=True)
    job = build_job(os_client, f"beir:{root}", JobConfig(index=index, state_dir=root / "state", progress=False),
                    bundle_dir=minilm_bundle)
    job.run()
    os_client.indices.refresh(index=index)
    yield root, index
    os_client.indices.delete(index=index, ignore_unavailable=True)


def test_adapt_lowers_loss_and_never_opens_judgments(tiny_corpus, minilm_bundle, opensearch_url, tmp_path):
    global _OPENED
    from lightretriever.cli import build_parser, main

    _, index = tiny_corpus
    adapt_parser = build_parser()._subparsers._group_actions[0].choices["adapt"]
    options = {o for action in adapt_parser._actions for o in action.option_strings}
    assert not {o for o in options if "qrel" in o or "dataset" in o or "split" in o}, options
    out = tmp_path / "adapted"
    _OPENED = []
    try:
        rc = main(["adapt", "--bundle", str(minilm_bundle), "--index", index, "--out", str(out),
                   "--opensearch", opensearch_url, "--epochs", "4", "--lr", "0.01", "--per-doc", "2",
                   "--kinds", "title,sentence,span", "--candidates", "16", "--loss-contrastive", "0.5"])
        opened = list(_OPENED)
    finally:
        _OPENED = None
    assert rc == 0
    assert not [p for p in opened if "qrels" in p or p.endswith("queries.jsonl")], opened
    bundle = Bundle.load(out)
    adaptation = bundle.manifest["adaptation"]
    assert bundle.manifest["fusion"]["default"] == "rrf"  # never linear: measured worse without labels
    assert adaptation["labels_used"] is False and adaptation["corpus"] == {"index": index, "documents": 40}
    assert adaptation["postprocess"]["weights"] == "idf" and adaptation["postprocess"]["corpus_documents"] == 40
    history = adaptation["distillation"]["history"]
    before, after = history[0]["loss"], history[-1]["final"]["loss"]
    assert after < 0.8 * before, history
    assert set(adaptation["distillation"]["queries"]) == {"title", "sentence", "span"}
    source = Bundle.load(minilm_bundle)
    assert not np.array_equal(bundle.table, source.table)
    assert bundle.manifest["files"]["tokenizer/tokenizer.json"] == source.manifest["files"]["tokenizer/tokenizer.json"]
    # the sparse query's IDF weights: folded in from the same corpus statistics, recorded in the manifest
    from lightretriever.adapt.corpus import read_index
    from lightretriever.adapt.postprocess import CorpusStats
    from lightretriever.client import get_client
    from lightretriever.encode.query import LightQueryEncoder

    assert bundle.manifest["query"]["sparse_weights"] == "idf" and adaptation["postprocess"]["sparse_weights"] == "idf"
    assert source.sparse_weights is None and source.manifest["query"].get("sparse_weights") is None
    texts = read_index(get_client(opensearch_url), index, with_dense=False, progress=False).full_texts()
    idf = CorpusStats.from_texts(source.tokenizer, texts, source.vocab_size).idf().astype(np.float32)
    np.testing.assert_array_equal(bundle.sparse_weights, idf)
    weighted = LightQueryEncoder.from_bundle(bundle).encode_query("microglia and the brain brain")
    plain = LightQueryEncoder.from_bundle(source).encode_query("microglia and the brain brain")
    assert weighted.sparse == {t: c * float(idf[int(t)]) for t, c in plain.sparse.items()}
    assert max(plain.sparse.values()) == 2.0


def test_adapted_bundle_does_not_default_to_a_learned_model_of_the_source(tiny_corpus, minilm_bundle, os_client,
                                                                         tmp_path):
    """A learned fusion was fitted to the source table's dense scores: after adapt it stays callable by name,
    but the default is rrf (the label-free default) until it is retrained on the adapted bundle."""
    from lightretriever.adapt.postprocess import PostProcessSpec
    from lightretriever.adapt.run import AdaptOptions, adapt_bundle
    from lightretriever.fuse.registry import build_fusion

    _, index = tiny_corpus
    vectors = Path(__file__).resolve().parents[1] / "vectors"
    source = tmp_path / "with-learned"
    shutil.copytree(minilm_bundle, source)
    bundle = Bundle.load(source)
    entry = json.loads((vectors / "fusion.json").read_text())["learned"]
    bundle.add_file(entry["model_file"], vectors / "fusion" / "learned.txt")
    bundle.update_section("fusion.learned", entry)
    bundle.update_section("fusion.default", "learned")
    adapted = adapt_bundle(source, os_client, index, tmp_path / "adapted", AdaptOptions(PostProcessSpec(), train=False),
                           progress=False)
    assert adapted.manifest["fusion"]["default"] == "rrf"
    assert adapted.manifest["fusion"]["learned"] == entry
    assert build_fusion("learned", adapted.manifest["fusion"], adapted.path).name == "learned"


def test_rerun_resumes_from_checkpoint(tiny_corpus, minilm_bundle, os_client, tmp_path):
    from lightretriever.adapt.loop import LoopConfig
    from lightretriever.adapt.run import AdaptOptions, adapt_bundle

    _, index = tiny_corpus
    options = AdaptOptions(loop=LoopConfig(epochs=2, candidates=8, checkpoint_every=1), max_queries=50)
    first = adapt_bundle(minilm_bundle, os_client, index, tmp_path / "a", options, state_dir=tmp_path / "s",
                         progress=False)
    # same command again: teacher cache and final checkpoint are reused, the result is identical
    again = adapt_bundle(minilm_bundle, os_client, index, tmp_path / "b", options, state_dir=tmp_path / "s",
                         progress=False)
    np.testing.assert_array_equal(first.table, again.table)
    fresh = adapt_bundle(minilm_bundle, os_client, index, tmp_path / "c", options, state_dir=tmp_path / "s2",
                         progress=False)
    np.testing.assert_array_equal(first.table, fresh.table)  # seeded: a fresh run gives the same table


def test_adapted_bundle_refuses_an_index_of_another_document_encoder(tiny_corpus, minilm_bundle, os_client,
                                                                     unique_index, tmp_path):
    from lightretriever.adapt.postprocess import PostProcessSpec
    from lightretriever.adapt.run import AdaptOptions, adapt_bundle
    from lightretriever.bundle.identity import document_encoder_id
    from lightretriever.evaluate.api import evaluate_dataset
    from lightretriever.mappings import create_index, recorded_document_encoders
    from lightretriever.retriever import Retriever

    root, index = tiny_corpus
    adapted = adapt_bundle(minilm_bundle, os_client, index, tmp_path / "pp",
                           AdaptOptions(PostProcessSpec(), train=False), progress=False)
    source_id = document_encoder_id(Bundle.load(minilm_bundle))
    assert document_encoder_id(adapted) == source_id
    assert set(recorded_document_encoders(os_client, index).values()) == {source_id}  # ingest recorded it
    Retriever.open(adapted.path, index, os_client).search("microglia", k=3)  # its own index: accepted

    other = unique_index()
    create_index(os_client, other, 384, encoder_id="0" * 64)  # same dimension, another document encoder
    with pytest.raises(MappingError, match="document encoder"):
        Retriever.open(adapted.path, other, os_client)
    with pytest.raises(MappingError, match="document encoder"):
        evaluate_dataset(root, adapted, other, os_client, systems=["light-dense"], hnsw=False, progress=False)
    with pytest.raises(MappingError, match="document encoder"):
        adapt_bundle(adapted.path, os_client, other, tmp_path / "x", AdaptOptions(train=False), progress=False)
    with pytest.raises(MappingError, match="document encoder"):  # ingest refuses to mix encoders too
        create_index(os_client, other, 384, encoder_id=source_id)
    assert json.loads((adapted.path / "manifest.json").read_text())["document_encoder"]["id"] == source_id


def test_corpus_cache_is_read_again_when_the_index_behind_the_name_changes(tiny_corpus, minilm_bundle, os_client,
                                                                          unique_index, tmp_path):
    """The corpus cache beside --out must not outlive the index: a corpus re-ingested under the same name with
    as many documents (typically once more, with a trained bundle) is read again, so the new table is never
    distilled towards the old document vectors."""
    from opensearchpy import helpers

    from lightretriever.adapt.corpus import read_index, read_index_cached
    from lightretriever.bundle.identity import document_encoder_id
    from lightretriever.mappings import create_index

    _, index = tiny_corpus
    stored = read_index(os_client, index, progress=False)
    encoder = document_encoder_id(Bundle.load(minilm_bundle))
    name = unique_index()
    for version in ("v1", "v2"):  # the same documents twice: only the index's uuid tells them apart
        create_index(os_client, f"{name}-{version}", 384, encoder_id=encoder)
        helpers.bulk(os_client, ({"_index": f"{name}-{version}", "_id": doc_id,
                                  "_source": {"doc_id": doc_id, "title": title, "text": text, "dense": dense.tolist()}}
                                 for doc_id, title, text, dense in zip(stored.ids, stored.titles, stored.texts,
                                                                       stored.dense, strict=True)), refresh=True)
    os_client.indices.put_alias(index=f"{name}-v1", name=name)
    cache = tmp_path / "corpus.npz"
    first = read_index_cached(os_client, name, cache, progress=False)
    np.testing.assert_allclose(first.dense, stored.dense, atol=1e-6)
    data = dict(np.load(cache))
    data["dense"] = np.zeros_like(data["dense"])  # mark the cached copy: reusing it returns zeros
    np.savez(cache, **data)
    assert not read_index_cached(os_client, name, cache, progress=False).dense.any()  # unchanged index: reused

    os_client.indices.update_aliases(body={"actions": [{"remove": {"index": f"{name}-v1", "alias": name}},
                                                       {"add": {"index": f"{name}-v2", "alias": name}}]})
    again = read_index_cached(os_client, name, cache, progress=False)  # same name, same count, new index
    np.testing.assert_allclose(again.dense, stored.dense, atol=1e-6)
    assert again.ids == stored.ids
