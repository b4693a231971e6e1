"""CUDA paths (half precision, packed token table). Skipped without a GPU; the lead's GPU check runs them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lightretriever.bundle import Bundle

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_minilm_on_cuda_half_matches_cpu(minilm_bundle):
    from lightretriever.encode.document import DocumentEncoder

    bundle = Bundle.load(minilm_bundle)
    gpu = DocumentEncoder.from_bundle(bundle)  # default device: cuda, float16
    assert gpu.backbone.device.type == "cuda" and gpu.backbone.dtype == torch.float16
    cpu = DocumentEncoder.from_bundle(bundle, device="cpu")
    texts = ["Microglia are the immune cells of the central nervous system.", "BRCA1 raises cancer risk."]
    for g, c in zip(gpu.encode_documents(texts), cpu.encode_documents(texts)):
        assert float(g.dense @ c.dense) > 0.999
        top_c = sorted(c.sparse, key=c.sparse.get, reverse=True)[:20]
        assert len(set(top_c) & set(g.sparse)) >= 18
    np.testing.assert_allclose(gpu.encode_queries(["protein"]), cpu.encode_queries(["protein"]), atol=5e-3)


def test_packed_table_on_cuda_matches_plain(tiny_llama_dir):
    from lightretriever.encode.backbone import load_backbone
    from lightretriever.encode.table import build_token_table

    bb = load_backbone(str(tiny_llama_dir))
    assert bb.device.type == "cuda"
    ids = list(range(1000, 1600))
    packed = build_token_table(bb, "query: ", ids=ids, progress=False)  # block-diagonal by default on CUDA
    plain = build_token_table(bb, "query: ", ids=ids, block_diagonal=False, progress=False)
    np.testing.assert_allclose(packed.astype(np.float32), plain.astype(np.float32), atol=3e-2, rtol=3e-2)
