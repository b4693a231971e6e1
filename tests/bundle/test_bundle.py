"""Bundle loading, verification and updates (no model: synthetic table over the real MiniLM tokenizer)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fixtures.bundle import write_synthetic_bundle
from lightretriever.bundle import LEARNED_FUSION_FILE, MANIFEST_FILE, TABLE_FILE, TOKENIZER_FILE, Bundle
from lightretriever.bundle.bundle import write_table
from lightretriever.bundle.manifest import default_fusion
from lightretriever.errors import BundleError


def _edit_manifest(path: Path, edit) -> None:
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    edit(manifest)
    (path / MANIFEST_FILE).write_text(json.dumps(manifest))


def test_round_trip_with_fusion_model(synthetic_bundle):
    bundle = Bundle.load(synthetic_bundle)
    assert bundle.table.dtype == np.float16 and bundle.table.shape == (30522, 8) and bundle.dense_dim == 8
    learned = {"model_file": LEARNED_FUSION_FILE, "systems": ["dense", "sparse", "bm25"],
               "features": ["dense_score", "query_len"], "depth": 100}
    digest = bundle.add_file(LEARNED_FUSION_FILE, b"tree\nversion=v4\n")
    bundle.update_section("fusion.learned", learned)
    bundle.update_section("fusion.default", "learned")

    again = Bundle.load(synthetic_bundle)
    assert again.manifest == bundle.manifest
    assert again.manifest["fusion"]["learned"] == learned and again.manifest["fusion"]["default"] == "learned"
    assert again.manifest["files"][LEARNED_FUSION_FILE] == digest
    assert (synthetic_bundle / LEARNED_FUSION_FILE).read_bytes() == b"tree\nversion=v4\n"
    np.testing.assert_array_equal(again.table, bundle.table)
    assert again.tokenizer.encode("protein folding", add_special_tokens=False).ids == \
        bundle.tokenizer.encode("protein folding", add_special_tokens=False).ids

    again.remove_file(LEARNED_FUSION_FILE)
    assert LEARNED_FUSION_FILE not in Bundle.load(synthetic_bundle).manifest["files"]


def test_update_section_rejects_invalid_values(synthetic_bundle):
    bundle = Bundle.load(synthetic_bundle)
    with pytest.raises(BundleError, match="fusion/default"):
        bundle.update_section("fusion.default", "borda")
    with pytest.raises(BundleError, match="no section"):
        bundle.update_section("nope.inner", 1)
    with pytest.raises(BundleError, match="relative"):
        bundle.add_file("../escape.txt", b"x")
    assert Bundle.load(synthetic_bundle).manifest["fusion"]["default"] == default_fusion()["default"]


def test_checksum_mismatch_is_refused(synthetic_bundle):
    table = synthetic_bundle / TABLE_FILE
    data = bytearray(table.read_bytes())
    data[-1] ^= 0xFF
    table.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"token_table.safetensors: checksum mismatch"):
        Bundle.load(synthetic_bundle)


def test_dim_mismatch_is_refused(synthetic_bundle):
    _edit_manifest(synthetic_bundle, lambda m: m.update(dense_dim=16))
    with pytest.raises(BundleError, match="8 columns but manifest dense_dim is 16"):
        Bundle.load(synthetic_bundle)


def test_table_rows_vs_tokenizer_vocabulary_is_refused(tmp_path):
    path = write_synthetic_bundle(tmp_path / "b", rows=30000)
    with pytest.raises(BundleError, match="30000 rows but manifest vocab_size is 30522"):
        Bundle.load(path)
    bundle = Bundle(path, json.loads((path / MANIFEST_FILE).read_text()), None, None)
    bundle.manifest["vocab_size"] = 30000
    bundle.save_manifest()
    with pytest.raises(BundleError, match="tokenizer vocabulary has 30522 ids but the table has 30000 rows"):
        Bundle.load(path)


def test_wrong_dtype_is_refused(synthetic_bundle):
    write_table(synthetic_bundle / TABLE_FILE, np.zeros((30522, 8), dtype=np.float16))
    Bundle(synthetic_bundle, json.loads((synthetic_bundle / MANIFEST_FILE).read_text()), None, None).save_manifest()
    Bundle.load(synthetic_bundle)  # zeros are fine
    from safetensors.numpy import save_file

    save_file({"table": np.zeros((30522, 8), dtype=np.float32)}, str(synthetic_bundle / TABLE_FILE))
    Bundle(synthetic_bundle, json.loads((synthetic_bundle / MANIFEST_FILE).read_text()), None, None).save_manifest()
    with pytest.raises(BundleError, match="dtype is float32, expected float16"):
        Bundle.load(synthetic_bundle)


def test_sparse_weights_load_with_the_table_and_are_checked(synthetic_bundle):
    """query.sparse_weights "idf": the table file's float32 [vocab] tensor weighs the sparse query's counts."""
    from lightretriever.encode.query import LightQueryEncoder

    table = np.random.default_rng(0).standard_normal((30522, 8)).astype(np.float16)
    weights = np.random.default_rng(1).uniform(0.1, 9.0, 30522).astype(np.float32)

    def save(weighting, tensor):
        write_table(synthetic_bundle / TABLE_FILE, table, tensor)
        manifest = json.loads((synthetic_bundle / MANIFEST_FILE).read_text())
        manifest["query"]["sparse_weights"] = weighting
        Bundle(synthetic_bundle, manifest, None, None).save_manifest()

    save(None, weights)  # a tensor the manifest does not name is not used
    assert Bundle.load(synthetic_bundle).sparse_weights is None
    plain = LightQueryEncoder.from_bundle(Bundle.load(synthetic_bundle)).encode_query("cancer cancer cells")
    save("idf", weights)
    bundle = Bundle.load(synthetic_bundle)
    np.testing.assert_array_equal(bundle.sparse_weights, weights)
    weighted = LightQueryEncoder.from_bundle(bundle).encode_query("cancer cancer cells")
    assert weighted.sparse == {t: c * float(weights[int(t)]) for t, c in plain.sparse.items()}
    np.testing.assert_array_equal(weighted.dense, plain.dense)  # the dense query does not change
    save("idf", None)
    with pytest.raises(BundleError, match="query.sparse_weights is 'idf'.*float32 tensor 'sparse_weights'.*found none"):
        Bundle.load(synthetic_bundle)
    save("idf", -weights)
    with pytest.raises(BundleError, match="negative, NaN or infinite"):
        Bundle.load(synthetic_bundle)
    with pytest.raises(BundleError, match="invalid manifest at query"):
        save("bm42", weights)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: (p / TOKENIZER_FILE).unlink(), "tokenizer.json: listed in the manifest but missing"),
        (lambda p: (p / MANIFEST_FILE).write_text("{not json"), "manifest.json: not valid JSON"),
        (lambda p: (p / MANIFEST_FILE).unlink(), "manifest.json: missing"),
        (lambda p: _edit_manifest(p, lambda m: m.update(format_version=2)), "unsupported format_version 2"),
        (lambda p: _edit_manifest(p, lambda m: m.update(pooling="max")), "invalid manifest at pooling"),
        (lambda p: _edit_manifest(p, lambda m: m["files"].pop(TABLE_FILE)), "invalid manifest at files"),
    ],
)
def test_damaged_bundles_are_refused_with_the_file_named(synthetic_bundle, damage, message):
    damage(synthetic_bundle)
    with pytest.raises(BundleError, match=message):
        Bundle.load(synthetic_bundle)


def test_not_a_directory(tmp_path):
    with pytest.raises(BundleError, match="not a bundle directory"):
        Bundle.load(tmp_path / "missing")


def test_query_time_loading_imports_no_torch(synthetic_bundle):
    code = (
        "import sys\n"
        "from lightretriever.bundle import Bundle\n"
        "from lightretriever.encode.query import LightQueryEncoder\n"
        f"enc = LightQueryEncoder.from_bundle(Bundle.load({str(synthetic_bundle)!r}))\n"
        "enc.encode_query('protein folding')\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers'))\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
