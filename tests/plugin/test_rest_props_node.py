"""Property tests of the plugin's REST inputs against the real node: the `lightretriever` query clause and the
model registry endpoints get arbitrary unicode, control characters, deep or huge JSON, NaN and infinite
numbers and wrong types. Every answer is a result or a 4xx with a reason: never a 500, never a dead node."""

from __future__ import annotations

import base64
import copy
import json
import shutil
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from opensearchpy import helpers
from tokenizers import Tokenizer

from fixtures.bundle import write_synthetic_bundle
from fixtures.properties import examples, json_values, nasty_text, numbers, texts
from lightretriever.bundle import TABLE_FILE, TOKENIZER_FILE, Bundle
from lightretriever.bundle.bundle import write_table
from lightretriever.plugin import MODELS_PATH, bundle_payload, delete_model, upload_bundle

pytestmark = pytest.mark.node

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
DIM = 8
INDEX = "test-rest-props-i15"
MODEL = "test-rest-props-i15"
WORDS = ["cancer", "protein", "cell", "gene", "tumor", "growth", "receptor", "the", "of"]


def small_bundle(path: Path) -> Path:
    """A valid bundle over the shared vectors' byte-level BPE (a few hundred ids): small enough to PUT often."""
    write_synthetic_bundle(path, dim=DIM)
    shutil.copy(VECTORS / "tokenizers" / "bpe_bytelevel.json", path / TOKENIZER_FILE)
    tokenizer = Tokenizer.from_file(str(path / TOKENIZER_FILE))
    table = np.random.default_rng(3).standard_normal((tokenizer.get_vocab_size(), DIM)).astype(np.float16)
    write_table(path / TABLE_FILE, table)
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(vocab_size=tokenizer.get_vocab_size(), query={"unk_id": None, "exclude_ids": [0]})
    Bundle(path, manifest, tokenizer, table).save_manifest()
    return path


@pytest.fixture(scope="module")
def rest(plugin_node, opensearch_url, tmp_path_factory):
    """The node's URL with a small index and a model for it; both removed afterwards, with every model a
    test stored."""
    bundle = small_bundle(tmp_path_factory.mktemp("bundle") / "small")
    tokenizer = Tokenizer.from_file(str(bundle / TOKENIZER_FILE))
    plugin_node.indices.delete(index=INDEX, ignore_unavailable=True)
    plugin_node.indices.create(index=INDEX, body={
        "settings": {"index": {"knn": True, "number_of_shards": 1, "number_of_replicas": 0}},
        "mappings": {"properties": {
            "dense": {"type": "knn_vector", "dimension": DIM,
                      "method": {"name": "hnsw", "engine": "lucene", "space_type": "innerproduct"}},
            "sparse": {"type": "rank_features"}, "title": {"type": "text"}, "text": {"type": "text"},
            "doc_id": {"type": "keyword"}}}})
    rng = np.random.default_rng(0)
    actions = []
    for i in range(30):
        text = " ".join(rng.choice(WORDS, 6))
        v = rng.standard_normal(DIM).astype(np.float32)
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        actions.append({"_index": INDEX, "_id": f"d{i}", "_source": {
            "doc_id": f"d{i}", "title": f"doc {i}", "text": text, "dense": (v / np.linalg.norm(v)).tolist(),
            "sparse": {str(t): 1.0 for t in ids if t > 0}}})
    helpers.bulk(plugin_node, actions, refresh=True)
    upload_bundle(plugin_node, bundle, MODEL, force=True)
    rest = Rest(opensearch_url, bundle_payload(bundle))
    yield rest
    plugin_node.indices.delete(index=INDEX, ignore_unavailable=True)
    for name in rest.stored:
        delete_model(plugin_node, name)


class Rest:
    """The node's URL, a valid PUT payload and the models stored (a short repr: hypothesis prints it)."""

    def __init__(self, url: str, payload: dict):
        self.url, self.payload, self.stored, self.session = url, payload, {MODEL}, requests.Session()

    def __repr__(self) -> str:
        return f"Rest({self.url})"


def send(rest, method: str, path: str, body: bytes | str | None = None) -> requests.Response:
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    response = rest.session.request(method, rest.url + path, data=data, timeout=120,
                                       headers={"Content-Type": "application/json"})
    assert response.status_code < 500, f"{method} {path} -> {response.status_code}: {response.text[:2000]}"
    if response.status_code >= 400:
        error = response.json().get("error")
        assert error, response.text[:500]  # a 4xx says why
    return response


def dumps(value, ascii_only: bool = True) -> str:
    """JSON as a client might write it: NaN and Infinity literals allowed, lone surrogates as \\ud800 escapes."""
    return json.dumps(value, allow_nan=True, ensure_ascii=ascii_only)


# ---- the query clause ----------------------------------------------------------------------------------

def wrong_or(valid):
    """Mostly plausible values, often of the wrong type."""
    return st.one_of(valid, json_values)


clause = st.fixed_dictionaries(
    {},
    optional={
        "query": wrong_or(st.one_of(texts, nasty_text, st.sampled_from(WORDS))),
        "model": wrong_or(st.one_of(st.just(MODEL), texts)),
        "k": wrong_or(st.one_of(st.integers(-5, 20_000), numbers)),
        "fusion": wrong_or(st.sampled_from(["linear", "rrf", "learned", "LINEAR", ""])),
        "filter": wrong_or(st.sampled_from([{"term": {"doc_id": "d1"}}, {"match_all": {}}, {"bool": {}}, {}])),
        "dense_field": wrong_or(st.sampled_from(["dense", "sparse", "title", "nope", ""])),
        "sparse_field": wrong_or(st.sampled_from(["sparse", "dense", "nope", ""])),
        "text_fields": wrong_or(st.lists(st.sampled_from(["title", "text", "dense", "*", ""]), max_size=3)),
        "systems": wrong_or(st.lists(st.sampled_from(["dense", "sparse", "bm25", "x"]), max_size=4)),
        "boost": wrong_or(numbers),
        "_name": wrong_or(texts),
        "unknown": json_values,
    },
)


@examples(150)
@given(spec=clause, size=st.one_of(st.integers(0, 50), numbers), ascii_only=st.booleans())
def test_query_clause_gives_hits_or_a_4xx(rest, spec, size, ascii_only):
    send(rest, "POST", f"/{INDEX}/_search", dumps({"size": size, "query": {"lightretriever": spec}}, ascii_only))


@examples(60)
@given(text=st.one_of(texts, nasty_text), fusion=st.sampled_from(["linear", "rrf", "learned"]))
def test_valid_clauses_with_any_text_answer_200_or_400(rest, text, fusion):
    response = send(rest, "POST", f"/{INDEX}/_search",
                    dumps({"size": 5, "query": {"lightretriever": {"query": text, "model": MODEL, "fusion": fusion}}}))
    assert response.status_code in (200, 400), response.text[:500]


@examples(40)
@given(body=st.binary(max_size=200), cut=st.integers(0, 120))
def test_mangled_bodies_get_a_4xx(rest, body, cut):
    valid = dumps({"query": {"lightretriever": {"query": "cancer cell", "model": MODEL}}}).encode()
    send(rest, "POST", f"/{INDEX}/_search", valid[:cut] + body + valid[cut:])


@pytest.mark.parametrize("depth", [50, 1_000, 20_000])
def test_deep_json_gets_a_4xx(rest, depth):
    deep_value = '{"query": {"lightretriever": {"query": ' + "[" * depth + "]" * depth + ', "model": "' + MODEL + '"}}}'
    send(rest, "POST", f"/{INDEX}/_search", deep_value)
    body = ('{"query": {"lightretriever": {"query": "cancer", "model": "' + MODEL + '", "filter": '
            + '{"bool": {"filter": [' * (depth // 10) + '{"match_all": {}}' + "]}}" * (depth // 10) + "}}}")
    assert send(rest, "POST", f"/{INDEX}/_search", body).status_code == (400 if depth >= 1_000 else 200)
    deep_manifest = '{"manifest": {"files": ' + "[" * depth + "]" * depth + '}, "files": {}}'
    send(rest, "PUT", MODELS_PATH + f"{MODEL}-deep", deep_manifest)


def test_huge_query_text_is_cut_not_refused(rest):
    response = send(rest, "POST", f"/{INDEX}/_search?filter_path=hits.hits._id,hits.hits.matched_queries",
                    dumps({"size": 3, "query": {"lightretriever": {"query": "cancer cell " * 200_000, "model": MODEL,
                                                                    "fusion": "rrf"}}}))
    hits = response.json()["hits"]["hits"]
    assert response.status_code == 200 and hits and all("lightretriever_truncated" in h["matched_queries"] for h in hits)


# ---- the model registry --------------------------------------------------------------------------------

names = st.one_of(texts, nasty_text, st.sampled_from([MODEL, "a", "-x", "A", "a" * 101, ".", "..", "_all"]))


def mutate(payload: dict, path: list[str], value) -> dict:
    """The payload with manifest[path...] replaced by `value` (files untouched, so checksums still match)."""
    out = copy.deepcopy(payload)
    node = out["manifest"]
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return out


MANIFEST_PATHS = st.sampled_from([
    ["dense_dim"], ["vocab_size"], ["max_length", "query"], ["max_length"], ["query", "unk_id"],
    ["query", "exclude_ids"], ["query"], ["fusion", "default"], ["fusion", "linear", "weights"],
    ["fusion", "linear", "weights", "dense"], ["fusion", "rrf", "k"], ["fusion", "rrf"], ["fusion", "learned"],
    ["fusion"], ["files"], ["normalize"], ["prompts"], ["format_version"], ["backbone"],
])


@examples(60)
@given(path=MANIFEST_PATHS, value=st.one_of(json_values, st.integers(-2, 70), st.sampled_from([0, -1, 10**12])),
       ascii_only=st.booleans())
def test_put_with_odd_manifest_values_is_200_or_4xx_and_queries_still_answer(rest, path, value, ascii_only):
    name = f"{MODEL}-m"
    body = dumps(mutate(rest.payload, path, value), ascii_only)
    response = send(rest, "PUT", MODELS_PATH + name, body)
    if response.status_code == 200:
        rest.stored.add(name)
        for fusion in ("linear", "rrf", "learned"):
            send(rest, "POST", f"/{INDEX}/_search", dumps({"size": 5, "query": {"lightretriever": {
                "query": "cancer cell growth", "model": name, "fusion": fusion}}}))


@examples(60)
@given(body=st.one_of(json_values, st.fixed_dictionaries({"manifest": json_values, "files": json_values}),
                      st.fixed_dictionaries({"manifest": st.just({"files": {TOKENIZER_FILE: "0" * 64}}),
                                             "files": st.dictionaries(texts, st.one_of(texts, json_values), max_size=3)})),
       name=names, ascii_only=st.booleans())
def test_registry_endpoints_with_arbitrary_names_and_bodies(rest, body, name, ascii_only):
    path = MODELS_PATH + quote(name.encode("utf-8", "surrogatepass"), safe="")
    response = send(rest, "PUT", path, dumps(body, ascii_only))
    if response.status_code == 200:
        rest.stored.add(name)
    send(rest, "GET", path)
    if name != MODEL:
        send(rest, "DELETE", path)


def test_put_with_a_huge_file_list_is_refused_cleanly(rest):
    payload = copy.deepcopy(rest.payload)
    payload["files"].update({f"extra/{i}": base64.b64encode(b"x" * 100).decode() for i in range(2_000)})
    response = send(rest, "PUT", MODELS_PATH + f"{MODEL}-huge", json.dumps(payload))
    assert response.status_code == 400 and "not listed in manifest.files" in response.text


# ---- chunked uploads (POST .../_chunk, then a PUT naming the upload) ----------------------------------------

UPLOAD_ID = "test0rest0props0upload"
chunk_bodies = st.fixed_dictionaries({}, optional={
    "upload": wrong_or(st.sampled_from([UPLOAD_ID, "short", "", "../x"])),
    "path": wrong_or(st.sampled_from([TOKENIZER_FILE, TABLE_FILE, "", "x/../y"])),
    "seq": wrong_or(st.one_of(st.integers(-3, 5), st.sampled_from([100_000, 2**31 - 1, 10**30]))),
    "data": wrong_or(st.sampled_from(["", "eA==", "not base64!", "=" * 5])),
})
commit_bodies = st.fixed_dictionaries({}, optional={
    "manifest": wrong_or(st.just({"files": {TOKENIZER_FILE: "0" * 64}})),
    "upload": wrong_or(st.sampled_from([UPLOAD_ID, "short"])),
    "chunks": wrong_or(st.dictionaries(st.sampled_from([TOKENIZER_FILE, TABLE_FILE, "unlisted"]),
                                       st.one_of(st.integers(-2, 3), st.sampled_from([2**31 - 1, 10**30])), max_size=3)),
})


@examples(60)
@given(chunk=chunk_bodies, commit=commit_bodies, ascii_only=st.booleans())
def test_chunk_and_commit_bodies_get_a_result_or_a_4xx(rest, chunk, commit, ascii_only):
    name = f"{MODEL}-chunked"
    rest.stored.add(name)  # deleting it afterwards also drops chunks never committed
    send(rest, "POST", MODELS_PATH + name + "/_chunk", dumps(chunk, ascii_only))
    send(rest, "PUT", MODELS_PATH + name, dumps({"upload": UPLOAD_ID, **commit}, ascii_only))


@pytest.mark.parametrize("body", ["not json", "[" * 5_000 + "]" * 5_000, '{"upload": ' + "[" * 5_000 + "]" * 5_000 + "}"])
def test_malformed_chunk_and_commit_bodies_are_400s(rest, body):
    name = f"{MODEL}-chunked"
    assert send(rest, "POST", MODELS_PATH + name + "/_chunk", body).status_code == 400
    assert send(rest, "PUT", MODELS_PATH + name, body).status_code == 400


def test_a_commit_with_a_huge_chunk_count_is_refused_before_reading(rest):
    response = send(rest, "PUT", MODELS_PATH + f"{MODEL}-chunked", json.dumps({
        "manifest": rest.payload["manifest"], "upload": UPLOAD_ID, "chunks": {TOKENIZER_FILE: 2**31 - 1}}))
    assert response.status_code == 400 and "chunks in all" in response.text
