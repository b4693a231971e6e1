"""`lightretriever ingest --threads/--dtype` through the CLI against the real node (tiny decoder bundle)."""

from __future__ import annotations

import json

import pytest
import torch

from lightretriever.cli import main

pytestmark = pytest.mark.node


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"_id": f"d{i}", "title": f"doc {i}", "text": f"protein cell {i} gene"}) + "\n"
                            for i in range(5)))
    return path


def test_threads_and_bfloat16(tiny_decoder_bundle, corpus, tmp_path, os_client, unique_index, opensearch_url,
                              capsys):
    index = unique_index()
    before = torch.get_num_threads()
    try:
        rc = main(["ingest", "--source", f"jsonl:{corpus}", "--bundle", str(tiny_decoder_bundle), "--index", index,
                   "--opensearch", opensearch_url, "--device", "cpu", "--threads", "1", "--dtype", "bfloat16",
                   "--state-dir", str(tmp_path / "state"), "--no-progress", "--json"])
        assert rc == 0 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("{"):])
    assert summary["counts"]["indexed"] == 5 and summary["batch_failures"] == 0
    os_client.indices.refresh(index=index)
    assert os_client.count(index=index)["count"] == 5
    doc = os_client.get(index=index, id="d2")["_source"]
    assert doc["sparse"] and abs(sum(x * x for x in doc["dense"]) - 1.0) < 1e-3


def test_threads_below_one_is_a_clear_error(corpus, tmp_path, capsys):
    rc = main(["ingest", "--source", f"jsonl:{corpus}", "--precomputed", "--dense-dim", "8", "--index", "x",
               "--threads", "0", "--state-dir", str(tmp_path / "state")])
    assert rc == 2 and "--threads must be at least 1" in capsys.readouterr().err
