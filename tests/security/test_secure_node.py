"""Issue 15, secured cluster for real: TLS and basic auth of a real server (nginx from `node start --secure`) in
front of the real node, through the real client and CLI. Failure modes tested (docs/security.md):
wrong CA, no CA (system store), wrong password, no credentials, --insecure, credentials in the URL; and that
the credentials never reach logs, dead letters, checkpoints, reports, child command lines or error text."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import pytest

from fixtures.data import write_precomputed_jsonl

from .conftest import DOCS, QUERIES, SecureFront, children, run_cli

pytestmark = pytest.mark.node

TLS_ERROR = "error: TLS: the cluster's certificate could not be verified"
AUTH_ERROR = "error: OpenSearch answered 401 Unauthorized"
REPO = Path(__file__).resolve().parents[2]


def leaks(front: SecureFront, texts: dict[str, str], roots: list[Path]) -> list[str]:
    """Where the password or the Authorization token shows up: command outputs, then every file under roots."""
    secrets = [front.password, front.token]
    found = [where for where, text in texts.items() if any(s in text for s in secrets)]
    for root in roots:
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if any(s.encode() in data for s in secrets):
                found.append(str(path))
    return found


@pytest.fixture(scope="module")
def secure_index(secure_front, minilm_bundle, os_client, tmp_path_factory):
    """The tiny collection ingested through the front by the CLI (with -v: debug logging), and its outputs."""
    root = tmp_path_factory.mktemp("secure")
    dataset = root / "tiny-beir"
    (dataset / "qrels").mkdir(parents=True)
    with open(dataset / "corpus.jsonl", "w") as fh:
        fh.writelines(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n" for doc_id, title, text in DOCS)
        fh.write(json.dumps({"_id": "empty", "title": "", "text": ""}) + "\n")  # a dead letter
    with open(dataset / "queries.jsonl", "w") as fh:
        fh.writelines(json.dumps({"_id": qid, "text": text}) + "\n" for qid, (text, _) in QUERIES.items())
    (dataset / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, (_, d) in QUERIES.items())
    )
    index = f"test-secure-{uuid.uuid4().hex[:8]}"
    state = root / "state"
    run = run_cli(["-v", "ingest", "--bundle", str(minilm_bundle), "--index", index, "--source", f"beir:{dataset}",
                   "--state-dir", str(state), "--no-progress", *secure_front.args()], secure_front.env())
    yield {"index": index, "dataset": dataset, "root": root, "state": state, "ingest": run}
    os_client.indices.delete(index=index, ignore_unavailable=True)


def test_ingest_search_and_eval_through_tls_and_basic_auth(secure_front, secure_index, minilm_bundle, os_client):
    ingest = secure_index["ingest"]
    assert ingest.returncode == 0, ingest.stderr
    index = secure_index["index"]
    os_client.indices.refresh(index=index)
    assert os_client.count(index=index)["count"] == len(DOCS)  # counted on the node behind the proxy
    dead = (secure_index["state"] / f"{index}.deadletter.jsonl").read_text()
    assert '"empty"' in dead

    # search, the password given as an argument this time
    env = secure_front.env()
    env.pop("LIGHTRETRIEVER_OPENSEARCH_PASSWORD")
    search = run_cli(["-v", "search", QUERIES["q2"][0], "--bundle", str(minilm_bundle), "--index", index, "--json",
                      *secure_front.args(), "--password", secure_front.password], env)
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)["hits"][0]["doc_id"] == QUERIES["q2"][1]

    out = secure_index["root"] / "eval"
    evaluation = run_cli(["-v", "eval", "--dataset", str(secure_index["dataset"]), "--bundle", str(minilm_bundle),
                          "--index", index, "--systems", "bm25,light-sparse,hybrid-rrf", "--no-hnsw",
                          "--out", str(out), *secure_front.args()], secure_front.env())
    assert evaluation.returncode == 0, evaluation.stderr
    report = json.loads(next(out.glob("*.json")).read_text())
    for system in report["systems"]:
        assert not system["errors"], system
        assert system["metrics"]["nDCG@10"] > 0.9, system  # each query names its one document plainly

    access = (secure_front.dir / "access.log").read_text()
    assert f'"POST /{index}/_bulk' in access and '"POST /_msearch' in access  # it all went through nginx

    outputs = {f"{name} {stream}": getattr(run, stream) for name, run in
               (("ingest", ingest), ("search", search), ("eval", evaluation)) for stream in ("stdout", "stderr")}
    found = leaks(secure_front, outputs, [secure_index["root"], secure_front.dir / "access.log",
                                          secure_front.dir / "error.log", secure_front.node_logs])
    assert not found, f"credentials found in {found}"


def test_plugin_upload_and_search_through_tls_and_basic_auth(secure_front, secure_index, minilm_bundle, os_client):
    plugins = {row["component"] for row in os_client.cat.plugins(format="json")}
    assert "lightretriever" in plugins, f"the node under test lacks the lightretriever plugin ({sorted(plugins)})"
    name = f"test-secure-{uuid.uuid4().hex[:8]}"
    upload = run_cli(["-v", "plugin", "upload", "--bundle", str(minilm_bundle), "--name", name, *secure_front.args()],
                     secure_front.env())
    try:
        assert upload.returncode == 0, upload.stderr
        assert f"uploaded: model {name}" in upload.stdout
        search = run_cli(["plugin", "search", QUERIES["q3"][0], "--index", secure_index["index"], "--model", name,
                          "--json", *secure_front.args()], secure_front.env())
        assert search.returncode == 0, search.stderr
        assert json.loads(search.stdout)[0]["id"] == QUERIES["q3"][1]
    finally:
        deleted = run_cli(["plugin", "delete", name, *secure_front.args()], secure_front.env())
    assert deleted.returncode == 0, deleted.stderr
    assert '"PUT /_plugins/lightretriever/models/' + name in (secure_front.dir / "access.log").read_text()
    found = leaks(secure_front, {"upload": upload.stdout + upload.stderr, "search": search.stdout + search.stderr},
                  [secure_front.dir / "access.log", secure_front.node_logs])
    assert not found, f"credentials found in {found}"


def test_wrong_ca_is_a_clear_tls_error_and_nothing_is_sent(secure_front, secure_index, minilm_bundle, os_client,
                                                          tmp_path):
    from lightretriever.node.secure import write_certificates

    other = tmp_path / "other-ca"
    other.mkdir()
    write_certificates(other)  # a CA that did not sign the proxy's certificate
    before = secure_front.requests_logged()
    index = f"test-secure-wrongca-{uuid.uuid4().hex[:8]}"
    state = tmp_path / "state"
    ingest = run_cli(["ingest", "--bundle", str(minilm_bundle), "--index", index, "--source",
                      f"beir:{secure_index['dataset']}", "--state-dir", str(state), "--no-progress",
                      *secure_front.args(ca_certs=str(other / "ca.pem"))], secure_front.env())
    env_no_ca = secure_front.env()
    search = run_cli(["search", "bees", "--bundle", str(minilm_bundle), "--index", secure_index["index"],
                      "--opensearch", secure_front.url, "--user", secure_front.user], env_no_ca)  # system CAs
    for run in (ingest, search):
        assert run.returncode == 2, run.stdout + run.stderr
        assert TLS_ERROR in run.stderr and "--ca-certs" in run.stderr and "Traceback" not in run.stderr
    assert secure_front.requests_logged() == before  # the handshake failed before any request was sent
    assert not os_client.indices.exists(index=index)
    dead = state / f"{index}.deadletter.jsonl"
    assert not dead.exists() or dead.read_text() == ""  # documents are not blamed for the connection


def test_wrong_or_missing_password_is_a_clear_401(secure_front, secure_index, minilm_bundle, os_client, tmp_path):
    wrong = "wrong-" + uuid.uuid4().hex
    index = f"test-secure-wrongpw-{uuid.uuid4().hex[:8]}"
    state = tmp_path / "state"
    env = secure_front.env(LIGHTRETRIEVER_OPENSEARCH_PASSWORD=wrong)
    ingest = run_cli(["ingest", "--bundle", str(minilm_bundle), "--index", index, "--source",
                      f"beir:{secure_index['dataset']}", "--state-dir", str(state), "--no-progress",
                      *secure_front.args()], env)
    search_verbose = run_cli(["-v", "search", "bees", "--bundle", str(minilm_bundle), "--index",
                              secure_index["index"], *secure_front.args()], env)
    no_credentials = secure_front.env()
    no_credentials.pop("LIGHTRETRIEVER_OPENSEARCH_PASSWORD")
    anonymous = run_cli(["search", "bees", "--bundle", str(minilm_bundle), "--index", secure_index["index"],
                         "--opensearch", secure_front.url, "--ca-certs", secure_front.ca_certs], no_credentials)
    for run in (ingest, anonymous):
        assert run.returncode == 2, run.stdout + run.stderr
        assert AUTH_ERROR in run.stderr and "Traceback" not in run.stderr
    assert search_verbose.returncode != 0 and "401 Unauthorized" in search_verbose.stderr  # -v: with traceback
    for run in (ingest, search_verbose, anonymous):
        assert wrong not in run.stdout + run.stderr
    assert not os_client.indices.exists(index=index)
    dead = state / f"{index}.deadletter.jsonl"
    assert not dead.exists() or dead.read_text() == ""


def test_insecure_warns_and_url_credentials_stay_out_of_messages(secure_front, secure_index, minilm_bundle):
    env = secure_front.env()
    env.pop("LIGHTRETRIEVER_OPENSEARCH_PASSWORD")
    insecure = run_cli(["search", QUERIES["q1"][0], "--bundle", str(minilm_bundle), "--index",
                        secure_index["index"], "--opensearch", secure_front.url, "--user", secure_front.user,
                        "--password", secure_front.password, "--insecure"], env)
    assert insecure.returncode == 0, insecure.stderr
    assert "TLS certificate verification is off (--insecure)" in insecure.stderr
    assert insecure.stdout.splitlines()[0].split()[-1] == QUERIES["q1"][1]

    host = secure_front.url.removeprefix("https://")
    in_url = run_cli(["search", QUERIES["q1"][0], "--bundle", str(minilm_bundle), "--index", secure_index["index"],
                      "--opensearch", f"https://{secure_front.user}:{secure_front.password}@{host}",
                      "--ca-certs", secure_front.ca_certs], env)
    assert in_url.returncode == 0, in_url.stderr
    wrong = "wrong-" + uuid.uuid4().hex
    bad_url = run_cli(["-v", "search", "x", "--bundle", str(minilm_bundle), "--index", secure_index["index"],
                       "--opensearch", f"https://{secure_front.user}:{wrong}@{host}", "--ca-certs",
                       secure_front.ca_certs], env)
    assert "401 Unauthorized" in bad_url.stderr and wrong not in bad_url.stdout + bad_url.stderr
    assert not leaks(secure_front, {"insecure": insecure.stdout + insecure.stderr,
                                    "in-url": in_url.stdout + in_url.stderr}, [])


def test_retriever_and_async_retriever_through_the_front(secure_front, secure_index, minilm_bundle):
    from lightretriever.bundle import Bundle
    from lightretriever.client import get_async_client, get_client
    from lightretriever.errors import AccessError
    from lightretriever.retriever import AsyncRetriever, Retriever

    bundle = Bundle.load(minilm_bundle)
    index = secure_index["index"]
    good = {"username": secure_front.user, "password": secure_front.password, "ca_certs": secure_front.ca_certs}
    retriever = Retriever(get_client(secure_front.url, **good), index, bundle)
    assert retriever.search(QUERIES["q2"][0], k=3).ids()[0] == QUERIES["q2"][1]
    wrong = "wrong-" + uuid.uuid4().hex
    with pytest.raises(AccessError, match="401 Unauthorized") as denied:
        Retriever(get_client(secure_front.url, **{**good, "password": wrong}), index, bundle).search("bees")
    assert wrong not in str(denied.value)

    async def run() -> tuple[list[str], str]:
        ok = AsyncRetriever(get_async_client(secure_front.url, **good), index, bundle)
        untrusted = AsyncRetriever(get_async_client(secure_front.url, **{**good, "ca_certs": None}), index, bundle)
        try:
            ids = (await ok.search(QUERIES["q3"][0], k=3)).ids()
            with pytest.raises(AccessError, match="TLS") as tls:
                await untrusted.search("bees")
            return ids, str(tls.value)
        finally:
            await ok.close()
            await untrusted.close()

    ids, tls_message = asyncio.run(run())
    assert ids[0] == QUERIES["q3"][1]
    assert secure_front.password not in tls_message


def test_sharded_workers_get_the_password_from_the_environment(secure_front, os_client, tmp_path):
    """pipelines/ingest_sharded.py given --password: the workers' command lines (what `ps` shows) lack it."""
    path = write_precomputed_jsonl(tmp_path / "pre.jsonl", 40, seed=3)
    index = f"test-secure-sharded-{uuid.uuid4().hex[:8]}"
    env = secure_front.env()
    env.pop("LIGHTRETRIEVER_OPENSEARCH_PASSWORD")
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, str(REPO / "pipelines" / "ingest_sharded.py"), "--workers", "2", "--", "--precomputed",
         "--dense-dim", "8", "--source", str(path), "--index", index, "--state-dir", str(tmp_path / "state"),
         *secure_front.args(), "--password", secure_front.password],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    seen: dict[int, str] = {}
    try:
        while proc.poll() is None:
            for child in children(proc.pid):
                try:
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                if cmdline:  # empty once the worker has exited (a zombie until reaped)
                    seen[child] = cmdline
            time.sleep(0.02)
        output = proc.stdout.read()
        assert proc.returncode == 0, output
        assert len(seen) >= 2, seen  # both workers were observed while they ran
        assert all(secure_front.password not in cmdline for cmdline in seen.values())
        assert all("ingest" in cmdline and "--shard" in cmdline for cmdline in seen.values()), seen
        os_client.indices.refresh(index=index)
        assert os_client.count(index=index)["count"] == 40
    finally:
        os_client.indices.delete(index=f"{index}*", ignore_unavailable=True)
