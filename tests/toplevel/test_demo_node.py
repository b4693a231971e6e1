"""The main job (`lightretriever demo`) on an index that already holds the corpus: it searches it as it is
instead of encoding the corpus again, but only when the index is complete and was written by the bundle's
document encoder (real node, real MiniLM bundle)."""

from __future__ import annotations

import pytest

from lightretriever.cli.demo import already_ingested
from lightretriever.errors import MappingError

pytestmark = [pytest.mark.node, pytest.mark.slow]  # encodes 6 documents with MiniLM


def test_demo_reuses_a_complete_index_and_only_that(scifact_dir, minilm_bundle, os_client, unique_index, tmp_path):
    from lightretriever.bundle import Bundle
    from lightretriever.ingest.job import JobConfig
    from lightretriever.ingest.setup import build_job
    from lightretriever.mappings import create_index

    data = tmp_path / "tiny"
    data.mkdir()
    with open(scifact_dir / "corpus.jsonl", encoding="utf-8") as fh:
        lines = [next(fh) for _ in range(7)]
    (data / "corpus.jsonl").write_text("".join(lines[:6]), encoding="utf-8")
    index, state = unique_index(), tmp_path / "state"
    bundle = Bundle.load(minilm_bundle)
    assert not already_ingested(os_client, index, data, bundle, state)  # no index yet: ingest
    build_job(os_client, f"beir:{data}", JobConfig(index=index, state_dir=tmp_path / "elsewhere", progress=False),
              bundle_dir=minilm_bundle).run()
    os_client.indices.refresh(index=index)
    assert already_ingested(os_client, index, data, bundle, state)  # complete, this encoder, no checkpoint here
    state.mkdir()
    (state / f"{index}.checkpoint.json").write_text("{}")
    assert not already_ingested(os_client, index, data, bundle, state)  # a checkpoint here: ingest resumes by it
    (data / "corpus.jsonl").write_text("".join(lines), encoding="utf-8")  # the corpus has one more document
    assert not already_ingested(os_client, index, data, bundle, tmp_path / "empty")
    other = unique_index()
    create_index(os_client, other, 384, encoder_id="0" * 64)  # another document encoder's index
    with pytest.raises(MappingError, match="document encoder"):
        already_ingested(os_client, other, data, bundle, tmp_path / "empty")
