"""`lightretriever ingest --threads/--dtype` through the CLI against the real node (tiny decoder bundle)."""

from __future__ import annotations

import json

import pytest
import torch

from lightretriever.bundle import Bundle
from lightretriever.bundle.identity import check_index, document_encoder_id
from lightretriever.cli import main
from lightretriever.encode.backbone import cpu_has_native_bf16
from lightretriever.mappings import create_index, recorded_document_dtypes, recorded_document_encoders

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
    assert recorded_document_dtypes(os_client, index) == {index: ["bfloat16"]}


def test_a_float32_job_into_a_bfloat16_index_is_accepted_and_recorded(tiny_decoder_bundle, corpus, tmp_path,
                                                                     os_client, unique_index, opensearch_url):
    """Same weights in another precision: the identity check accepts it, the _meta records both."""
    index = unique_index()
    for dtype in ("bfloat16", "float32"):
        rc = main(["ingest", "--source", f"jsonl:{corpus}", "--bundle", str(tiny_decoder_bundle), "--index", index,
                   "--opensearch", opensearch_url, "--device", "cpu", "--dtype", dtype,
                   "--state-dir", str(tmp_path / dtype), "--no-progress"])
        assert rc == 0
    assert recorded_document_dtypes(os_client, index) == {index: ["bfloat16", "float32"]}
    bundle = Bundle.load(tiny_decoder_bundle)
    assert set(recorded_document_encoders(os_client, index).values()) == {document_encoder_id(bundle)}
    check_index(os_client, index, bundle)  # no MappingError: one document encoder, two precisions
    os_client.indices.refresh(index=index)
    assert os_client.count(index=index)["count"] == 5


def test_default_precision_is_bf16_on_a_native_cpu_and_float32_stays_available(tiny_decoder_bundle, corpus, tmp_path,
                                                                               os_client, unique_index,
                                                                               opensearch_url):
    native = cpu_has_native_bf16()
    for dtype, expected in ((None, "bfloat16" if native else "float32"), ("float32", "float32")):
        index = unique_index()
        rc = main(["ingest", "--source", f"jsonl:{corpus}", "--bundle", str(tiny_decoder_bundle), "--index", index,
                   "--opensearch", opensearch_url, "--device", "cpu", "--state-dir", str(tmp_path / index),
                   "--no-progress", *(["--dtype", dtype] if dtype else [])])
        assert rc == 0
        assert recorded_document_dtypes(os_client, index) == {index: [expected]}


def test_recording_a_precision_keeps_the_rest_of_meta(os_client, unique_index):
    index = unique_index()
    assert create_index(os_client, index, 8, encoder_id="e" * 64, dtype="float32") is True
    os_client.indices.put_mapping(index=index, body={"_meta": {"owner": "team-a",
                                                              **os_client.indices.get_mapping(index=index)[index]
                                                              ["mappings"]["_meta"]}})
    assert create_index(os_client, index, 8, encoder_id="e" * 64, dtype="bfloat16") is False
    meta = os_client.indices.get_mapping(index=index)[index]["mappings"]["_meta"]
    assert meta["owner"] == "team-a" and meta["lightretriever"]["document_encoder"] == "e" * 64
    assert recorded_document_dtypes(os_client, index) == {index: ["bfloat16", "float32"]}


def test_an_index_that_records_no_precision_is_left_unrecorded(os_client, unique_index):
    index = unique_index()
    assert create_index(os_client, index, 8) is True  # as indices written before precisions were recorded
    assert create_index(os_client, index, 8, dtype="bfloat16") is False
    assert recorded_document_dtypes(os_client, index) == {index: None}


def test_threads_below_one_is_a_clear_error(corpus, tmp_path, capsys):
    rc = main(["ingest", "--source", f"jsonl:{corpus}", "--precomputed", "--dense-dim", "8", "--index", "x",
               "--threads", "0", "--state-dir", str(tmp_path / "state")])
    assert rc == 2 and "--threads must be at least 1" in capsys.readouterr().err
