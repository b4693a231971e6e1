"""End to end on the real node with the real MiniLM bundle: a small SciFact slice is encoded and
indexed, the learned fusion is trained on train queries and saved into a copy of the bundle, and
all seven systems are evaluated through OpenSearch against the expected figures of the CI regression
file bench/regressions/scifact-slice-minilm.yaml (which also defines the slice)."""

import itertools
import json
import os
import shutil
from pathlib import Path

import pytest
from opensearchpy import helpers

from lightretriever.bundle import Bundle
from lightretriever.evaluate import ALL_SYSTEMS, evaluate_dataset, load_dataset, regression
from lightretriever.fuse.learn.pipeline import train_fusion

pytestmark = [pytest.mark.node, pytest.mark.slow]

REGRESSION = Path(__file__).resolve().parents[2] / "bench" / "regressions" / "scifact-slice-minilm.yaml"
SLICE = regression.load(REGRESSION)["slice"]
N_TEST, N_TRAIN, N_FILLER, DEPTH = (SLICE[k] for k in ("test_queries", "train_queries", "filler_docs", "depth"))


@pytest.fixture(scope="module")
def scifact_slice(os_client, minilm_bundle, scifact_dir, tmp_path_factory):
    """Index the relevant docs of the first test/train queries plus some filler docs."""
    from lightretriever.encode.document import DocumentEncoder
    from lightretriever.encode.text import document_text
    from lightretriever.mappings import index_body

    test = load_dataset(scifact_dir, "test")
    train = load_dataset(scifact_dir, "train")
    wanted = set()
    for dataset, n in ((test, N_TEST), (train, N_TRAIN)):
        for qid in itertools.islice(dataset.queries, n):
            wanted |= set(dataset.qrels[qid])
    docs = []
    with open(scifact_dir / "corpus.jsonl", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            record = json.loads(line)
            if record["_id"] in wanted or i < N_FILLER:
                docs.append(record)
    bundle = Bundle.load(minilm_bundle)
    encodings = DocumentEncoder.from_bundle(bundle, device="cpu").encode_documents(
        [document_text(d.get("title"), d.get("text")) for d in docs]
    )
    index = f"test-search-e2e-{tmp_path_factory.getbasetemp().name[-8:]}".lower()
    os_client.indices.delete(index=index, ignore_unavailable=True)
    os_client.indices.create(index=index, body=index_body(bundle.dense_dim))
    actions = [
        {
            "_index": index,
            "_id": d["_id"],
            "doc_id": d["_id"],
            "title": d.get("title", ""),
            "text": d["text"],
            "dense": e.dense.tolist(),
            "sparse": e.sparse,
        }
        for d, e in zip(docs, encodings)
    ]
    helpers.bulk(os_client, actions, refresh=True)
    copy = tmp_path_factory.mktemp("bundle") / "minilm"
    shutil.copytree(minilm_bundle, copy)
    yield index, copy, len(docs)
    os_client.indices.delete(index=index, ignore_unavailable=True)


def test_train_then_evaluate_all_seven_systems(os_client, scifact_slice, scifact_dir, tmp_path):
    index, bundle_dir, _ = scifact_slice
    bundle = Bundle.load(bundle_dir)
    with pytest.raises(ValueError, match="test split"):
        train_fusion(bundle, os_client, index, scifact_dir, "test")
    summary = train_fusion(
        bundle,
        os_client,
        index,
        scifact_dir,
        "train",
        max_queries=N_TRAIN,
        depth=DEPTH,
        rounds=SLICE["fusion_rounds"],
        folds=0,
        progress=False,
    )
    assert summary.used > N_TRAIN // 2
    reloaded = Bundle.load(bundle_dir)  # checksums verified: the model file is part of the bundle
    assert reloaded.manifest["fusion"]["learned"]["features"][:2] == ["dense_score", "dense_rank"]
    assert (bundle_dir / "fusion" / "learned.txt").read_text().startswith("tree")

    report = evaluate_dataset(
        scifact_dir,
        reloaded,
        index,
        os_client,
        max_queries=N_TEST,
        depth=DEPTH,
        out_dir=tmp_path,
        progress=False,
    )
    rows = {r.name: r for r in report.systems}
    assert list(rows) == list(ALL_SYSTEMS)
    assert rows["hybrid-learned"].fusion == "learned"
    for name, row in rows.items():
        assert row.errors == {}, name
        assert row.queries == N_TEST and row.latency_ms["p50"] > 0 and row.qps > 0, name
        # every relevant doc is among the 70 indexed docs: any working system finds most of them
        assert row.metrics["R@100"] > 0.8, name
    assert rows["light-dense"].encode_share < rows["full-dense"].encode_share
    assert rows["light-dense"].hnsw_recall_at_10 >= 0.9 and rows["full-dense"].hnsw_recall_at_10 >= 0.9
    assert (tmp_path / "scifact-test.png").is_file()
    assert "| hybrid-learned |" in (tmp_path / "scifact-test.md").read_text()
    check_regression(report)


def check_regression(report):
    """Every system's nDCG@10 and R@100 within the file's tolerance of the expected figures.
    LIGHTRETRIEVER_REGRESS_UPDATE=1 rewrites them instead (after an intended change; say why in the commit)."""
    actual = regression.figures(report)
    if os.environ.get("LIGHTRETRIEVER_REGRESS_UPDATE") == "1":
        regression.update(REGRESSION, actual, report.machine)
        return
    problems = regression.compare(regression.load(REGRESSION), actual)
    assert problems == [], f"{REGRESSION.name}: " + "; ".join(problems)


def test_cli_search_and_errors(os_client, opensearch_url, scifact_slice, capsys):
    from lightretriever.cli import main

    index, bundle_dir, _ = scifact_slice
    base = ["--bundle", str(bundle_dir), "--opensearch", opensearch_url]
    assert (
        main(
            [
                "search",
                "vitamin D and bone density",
                "--index",
                index,
                "-k",
                "5",
                "--fusion",
                "rrf",
                "--json",
                *base,
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["fusion"] == "rrf" and len(out["hits"]) == 5
    assert set(out["systems"]) == {"dense", "sparse", "bm25"}
    # linear reads dense and sparse only: no bm25 sub-query is sent (as eval and the plugin do)
    assert main(["search", "vitamin D", "--index", index, "--fusion", "linear", "--json", *base]) == 0
    assert set(json.loads(capsys.readouterr().out)["systems"]) == {"dense", "sparse"}
    assert out["timings_ms"]["encode"] < out["timings_ms"]["total"]
    assert main(["search", "vitamin D", "--index", "no-such-index-h5", *base]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["search", "vitamin D", "--index", index, "-k", "10001", *base]) == 2
    assert "out of range" in capsys.readouterr().err
