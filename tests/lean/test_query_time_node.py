"""The query-time install (issue 15): Retriever, AsyncRetriever, dsl and the plugin client against the real node,
with nothing but the base package. .ci/run runs this folder in a fresh venv without torch as well
(LIGHTRETRIEVER_LEAN_VENV=1 there: torch must then be absent, not just unimported)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import uuid

import pytest
import requests

from .conftest import CLI, DOCS, HEAVY

pytestmark = pytest.mark.lean

FUSED = ("linear", "rrf", "learned")


def test_query_time_modules_import_no_torch():
    """Imported in a fresh interpreter, the query path and the whole CLI parser pull in no heavy module."""
    code = (
        "import json, sys; import lightretriever.retriever, lightretriever.rewrite.dsl, lightretriever.plugin, "
        "lightretriever.client; from lightretriever.cli import build_parser; build_parser(); "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == []
    if os.environ.get("LIGHTRETRIEVER_LEAN_VENV") == "1":  # .ci/run's base-only venv
        assert [m for m in HEAVY if importlib.util.find_spec(m) is not None] == []
        import lightretriever  # the installed package, not the clone's python/

        assert "site-packages" in lightretriever.__file__, lightretriever.__file__


def test_a_command_that_needs_torch_names_the_extra(tmp_path):
    """`bundle build` without torch: one line naming `lightretriever[encode]`, no traceback. torch is hidden from
    the interpreter (None in sys.modules), so the full venv checks the same path as the lean one."""
    hide = "import sys; sys.modules['torch'] = None; "
    cli = [sys.executable, "-c", hide + CLI[2]]
    run = subprocess.run([*cli, "bundle", "build", "--backbone", "minilm", "--out", str(tmp_path / "b")],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.strip() == (
        "error: `lightretriever bundle build` needs torch, which is not installed: pip install 'lightretriever[encode]'"
    )


@pytest.mark.node
def test_retriever_finds_each_document_with_every_system_and_fusion(lean_bundle, lean_index, os_client):
    from lightretriever.bundle import Bundle
    from lightretriever.retriever import Retriever

    bundle = Bundle.load(lean_bundle)
    singles = {system: Retriever(os_client, lean_index, bundle, systems=(system,)) for system in ("dense", "sparse", "bm25")}
    hybrid = Retriever(os_client, lean_index, bundle)
    for doc_id, text in DOCS.items():
        for system, retriever in singles.items():
            assert retriever.search(text, k=3).ids()[0] == doc_id, (system, doc_id)
        for fusion in FUSED:
            result = hybrid.search(text, k=3, fusion=fusion)
            assert result.fusion == fusion and not result.warnings, (fusion, result.warnings)
            assert result.ids()[0] == doc_id, (fusion, doc_id)


@pytest.mark.node
def test_async_retriever_agrees_with_retriever(lean_bundle, lean_index, os_client):
    from lightretriever.bundle import Bundle
    from lightretriever.client import get_async_client
    from lightretriever.retriever import AsyncRetriever, Retriever

    bundle = Bundle.load(lean_bundle)
    expected = {(text, f): Retriever(os_client, lean_index, bundle).search(text, k=5, fusion=f).hits
                for text in DOCS.values() for f in FUSED}

    async def run():
        retriever = AsyncRetriever(get_async_client(), lean_index, bundle)
        try:
            keys = list(expected)
            results = await asyncio.gather(*(retriever.search(text, k=5, fusion=f) for text, f in keys))
            return dict(zip(keys, (r.hits for r in results)))
        finally:
            await retriever.close()

    got = asyncio.run(run())
    for key, hits in expected.items():
        assert [h.doc_id for h in got[key]] == [h.doc_id for h in hits], key
        assert [h.score for h in got[key]] == pytest.approx([h.score for h in hits]), key


@pytest.mark.node
def test_dsl_cli_body_runs_on_the_node(lean_bundle, lean_index, opensearch_url):
    """What `lightretriever dsl` prints for an app in another language is a working _msearch request."""
    for doc_id, text in DOCS.items():
        dsl = subprocess.run([*CLI, "dsl", text, "--bundle", str(lean_bundle), "--index", lean_index, "--depth", "3"],
                             capture_output=True, text=True, timeout=120, check=False)
        assert dsl.returncode == 0, dsl.stderr
        response = requests.post(f"{opensearch_url}/_msearch", data=dsl.stdout,
                                 headers={"Content-Type": "application/x-ndjson"}, timeout=60)
        response.raise_for_status()
        answers = response.json()["responses"]
        assert len(answers) == 3
        # ids come from the doc_id doc values (rewrite/dsl.py), as the Retriever reads them
        assert all(a["hits"]["hits"][0]["fields"]["doc_id"] == [doc_id] for a in answers), (doc_id, answers)


@pytest.mark.node
def test_plugin_client_upload_and_search_match_the_retriever(lean_bundle, lean_index, os_client):
    from lightretriever.bundle import Bundle
    from lightretriever.plugin import delete_model, search, upload_bundle
    from lightretriever.retriever import Retriever

    plugins = {row["component"] for row in os_client.cat.plugins(format="json")}
    assert "lightretriever" in plugins, f"the node under test lacks the lightretriever plugin ({sorted(plugins)})"
    name = f"test-lean-{uuid.uuid4().hex[:8]}"
    upload_bundle(os_client, lean_bundle, name)
    try:
        retriever = Retriever(os_client, lean_index, Bundle.load(lean_bundle), depth=50)
        for doc_id, text in DOCS.items():
            for fusion in FUSED:
                hits = search(os_client, lean_index, name, text, k=50, size=5, fusion=fusion)
                python = retriever.search(text, k=5, fusion=fusion).hits
                assert hits[0][0] == doc_id, (fusion, hits)
                assert [d for d, _ in hits] == [h.doc_id for h in python], (fusion, doc_id)
                assert [s for _, s in hits] == pytest.approx([h.score for h in python], abs=1e-3), (fusion, doc_id)
    finally:
        assert delete_model(os_client, name)
