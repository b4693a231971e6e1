"""mappings.py and client.py without a node."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lightretriever import client, mappings
from lightretriever.errors import MappingError, NodeError, RecordError

REPO = Path(__file__).resolve().parents[2]


def test_index_body_fills_parameters():
    body = mappings.index_body(384, m=24, ef_construction=256, shards=2, replicas=1)
    dense = body["mappings"]["properties"]["dense"]
    assert dense["dimension"] == 384
    assert dense["method"] == {
        "name": "hnsw",
        "engine": "lucene",
        "space_type": "innerproduct",
        "parameters": {"m": 24, "ef_construction": 256},
    }
    assert body["settings"]["index"] == {"knn": True, "number_of_shards": 2, "number_of_replicas": 1}
    assert mappings.index_body(8)["mappings"]["properties"]["dense"]["dimension"] == 8  # template untouched
    with pytest.raises(MappingError, match="dense dimension"):
        mappings.index_body(0)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"text": "t"}, "'doc_id' is a required property"),
        ({"doc_id": "a", "text": ""}, r"text: '' does not match '\\\\S'"),
        ({"doc_id": "a", "title": " ", "text": "\n"}, r"text: '\\n' does not match '\\\\S'"),
        ({"doc_id": "a", "text": "t", "sparse": {"10": 0.0}}, "sparse/10: 0.0 is less than or equal"),
        ({"doc_id": "a", "text": "t", "sparse": {"##ing": 1.0}}, "'##ing' does not match"),
        ({"doc_id": "a", "text": "t", "dense": ["x"]}, "dense/0: 'x' is not of type 'number'"),
        ({"doc_id": "a", "text": "t", "colour": "red"}, "'colour' was unexpected"),
    ],
)
def test_validate_document_names_record_and_reason(doc, message):
    with pytest.raises(RecordError, match=message):
        mappings.validate_document(doc)


def test_valid_document_passes():
    mappings.validate_document(
        {
            "doc_id": "d1",
            "title": None,
            "text": "t",
            "dense": [0.6, 0.8],
            "sparse": {"0": 1e-3, "2054": 2.5},
            "metadata": {"year": 2020},
        }
    )


def test_client_url_auth_and_tls(monkeypatch, tmp_path):
    monkeypatch.setenv("LIGHTRETRIEVER_OPENSEARCH_URL", "https://search.example:9200/")
    monkeypatch.setenv("LIGHTRETRIEVER_OPENSEARCH_USER", "alice")
    monkeypatch.setenv("LIGHTRETRIEVER_OPENSEARCH_PASSWORD", "secret")
    conn = client.get_client().transport.get_connection()
    assert conn.host == "https://search.example:9200"
    assert conn.http_auth == ("alice", "secret")
    assert conn.use_ssl is True and conn.pool.cert_reqs == "CERT_REQUIRED"  # verification on by default
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert client.get_client(ca_certs=str(ca)).transport.get_connection().pool.ca_certs == str(ca)
    insecure = client.get_client(verify_certs=False).transport.get_connection()
    assert insecure.pool.cert_reqs == "CERT_NONE"
    with pytest.raises(NodeError, match="CA bundle .*missing.pem does not exist"):
        client.get_client(ca_certs=str(tmp_path / "missing.pem"))
    monkeypatch.delenv("LIGHTRETRIEVER_OPENSEARCH_PASSWORD")
    with pytest.raises(NodeError, match="needs both a user and a password"):
        client.get_client()
    with pytest.raises(NodeError, match="is not http"):
        client.get_client("ftp://x")


def test_client_from_cli_args(monkeypatch):
    import argparse

    parser = argparse.ArgumentParser()
    client.add_connection_args(parser)
    args = parser.parse_args(["--opensearch", "http://127.0.0.1:9", "--insecure"])
    monkeypatch.delenv("LIGHTRETRIEVER_OPENSEARCH_USER", raising=False)
    assert client.client_from_args(args).transport.get_connection().host == "http://127.0.0.1:9"
    assert client.get_client(args).transport.get_connection().host == "http://127.0.0.1:9"


def test_no_url_anywhere_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("LIGHTRETRIEVER_OPENSEARCH_URL", raising=False)
    monkeypatch.setenv("LIGHTRETRIEVER_HOME", str(tmp_path))
    with pytest.raises(NodeError, match="no OpenSearch URL.*lightretriever node start"):
        client.get_client()


@pytest.mark.parametrize(
    "url, gzip",
    [
        ("http://127.0.0.1:9200", False),
        ("http://localhost:9200", False),
        ("http://[::1]:9200", False),
        ("https://search.example:9200", True),
        ("http://10.0.0.7:9200", True),
    ],
)
def test_client_gzip_only_off_loopback(monkeypatch, url, gzip):
    monkeypatch.delenv("LIGHTRETRIEVER_OPENSEARCH_GZIP", raising=False)
    assert client.get_client(url).transport.get_connection().http_compress is gzip
    assert client.get_client(url, http_compress=not gzip).transport.get_connection().http_compress is (not gzip)
    monkeypatch.setenv("LIGHTRETRIEVER_OPENSEARCH_GZIP", "1")
    assert client.get_client(url).transport.get_connection().http_compress is True
    monkeypatch.setenv("LIGHTRETRIEVER_OPENSEARCH_GZIP", "off")
    assert client.get_client(url).transport.get_connection().http_compress is False


def test_mappings_found_where_a_wheel_installs_them(tmp_path, monkeypatch):
    """Outside a clone, mappings/ is read from <prefix>/share/lightretriever/mappings (pyproject data-files)."""
    monkeypatch.delenv("LIGHTRETRIEVER_MAPPINGS", raising=False)
    installed = tmp_path / "prefix" / "share" / "lightretriever" / "mappings"
    shutil.copytree(REPO / "mappings", installed)
    monkeypatch.setattr(mappings, "__file__", str(tmp_path / "site-packages" / "lightretriever" / "mappings.py"))
    monkeypatch.setattr(mappings.sysconfig, "get_path", lambda name: str(tmp_path / "prefix"))
    assert mappings.mappings_dir() == installed
    shutil.rmtree(installed)
    with pytest.raises(MappingError, match="no mappings directory with index.json.*LIGHTRETRIEVER_MAPPINGS"):
        mappings.mappings_dir()


def test_wheel_carries_every_mappings_file():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: pip vendors the same parser
        from pip._vendor import tomli as tomllib
    data_files = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    listed = set(data_files["share/lightretriever/mappings"])
    assert listed == {f"mappings/{p.name}" for p in (REPO / "mappings").iterdir() if p.is_file()}
