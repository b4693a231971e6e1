"""Credentials stay out of URLs and child command lines (no node needed)."""

from __future__ import annotations

import pytest


def test_secret_free_command_moves_credentials_to_the_environment():
    from lightretriever.client import secret_free_command, split_credentials

    argv, env = secret_free_command(
        ["--index", "i", "--password", "s3cret", "--opensearch", "https://alice@db:9200", "--user=bob"], env={}
    )
    assert argv == ["--index", "i", "--opensearch", "https://db:9200", "--user", "bob"]
    assert env == {"LIGHTRETRIEVER_OPENSEARCH_PASSWORD": "s3cret", "LIGHTRETRIEVER_OPENSEARCH_USER": "alice"}
    argv, env = secret_free_command(["--password=x", "--opensearch=https://u:p%40ss@h"], env={})
    assert argv == ["--opensearch", "https://h"] and env["LIGHTRETRIEVER_OPENSEARCH_PASSWORD"] == "p@ss"
    assert split_credentials("https://h:1/p") == ("https://h:1/p", None, None)


def test_access_errors_name_the_cause_not_the_credentials():
    import ssl

    from opensearchpy.exceptions import (
        AuthenticationException,
        AuthorizationException,
        SSLError,
        TransportError,
    )

    from lightretriever.client import access_error
    from lightretriever.errors import AccessError

    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                                            "self-signed certificate in certificate chain (_ssl.c:1006)")
    tls = access_error(SSLError("N/A", str(cause), cause))
    assert isinstance(tls, AccessError) and "(self-signed certificate in certificate chain)" in str(tls)
    assert "401 Unauthorized" in str(access_error(AuthenticationException(401, "<html>nginx</html>")))
    assert access_error(TransportError(500, "boom")) is None
    denied = {"error": {"type": "security_exception", "reason": "no permissions for [indices:data/write/bulk]"}}
    assert "403 Forbidden" in str(access_error(AuthorizationException(403, "security_exception", denied)))
    blocked = {"error": {"type": "cluster_block_exception", "reason": "index [x] blocked by: [FORBIDDEN/8/index write]"}}
    assert access_error(AuthorizationException(403, "cluster_block_exception", blocked)) is None
    assert access_error(ValueError("x")) is None


def test_a_missing_extra_names_the_extra():
    from lightretriever.extras import MissingExtraError, missing_extra, require

    with pytest.raises(MissingExtraError, match=r"pip install 'lightretriever\[all\]'"):
        require("no_such_module_i15", what="`x`")
    error = missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch"), "`lightretriever ingest`")
    assert str(error) == ("`lightretriever ingest` needs torch, which is not installed: "
                          "pip install 'lightretriever[encode]'")
    assert missing_extra(ModuleNotFoundError("x", name="yaml")) is None
