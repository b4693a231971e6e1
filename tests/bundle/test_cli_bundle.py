"""`lightretriever bundle build|info` through the real CLI entry point (tiny random Llama: seconds)."""

from __future__ import annotations

import json

import pytest

from lightretriever.bundle import Bundle
from lightretriever.cli import main

pytestmark = pytest.mark.slow


def test_build_then_info(tiny_llama_dir, tmp_path, capsys):
    out = tmp_path / "bundle"
    rc = main(["bundle", "build", "--backbone", str(tiny_llama_dir), "--out", str(out), "--device", "cpu",
               "--query-prompt", "query: ", "--prune-top-k", "32", "--max-doc-length", "128", "--batch-size", "4096"])
    assert rc == 0
    bundle = Bundle.load(out)
    m = bundle.manifest
    assert m["sparse"]["prune_top_k"] == 32 and m["max_length"] == {"document": 128, "query": 64}
    assert m["prompts"]["query"] == "query: " and m["backbone"]["name"] == str(tiny_llama_dir)
    capsys.readouterr()

    assert main(["bundle", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "decoder" in text and "top-k 32" in text and "30522" in text
    assert main(["bundle", "info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == m

    # refuses to overwrite, and a corrupted bundle gives one clear line and exit code 2
    assert main(["bundle", "build", "--backbone", str(tiny_llama_dir), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    (out / "token_table.safetensors").write_bytes(b"broken")
    assert main(["bundle", "info", str(out)]) == 2
    assert "checksum mismatch" in capsys.readouterr().err


def test_unknown_backbone_is_a_clear_error(tmp_path, capsys):
    assert main(["bundle", "build", "--backbone", str(tmp_path / "nope" / "x" / "y"), "--out",
                 str(tmp_path / "b")]) == 2
    assert "no such model directory" in capsys.readouterr().err
