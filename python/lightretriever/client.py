"""The one place that builds an opensearch-py client (local node, or an existing cluster)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
from urllib.parse import urlparse

from lightretriever.errors import NodeError

DEFAULT_TIMEOUT = 60


def resolve_url(url: str | None = None) -> str:
    """--opensearch URL, else $LIGHTRETRIEVER_OPENSEARCH_URL, else the running local node's state file."""
    url = url or os.environ.get("LIGHTRETRIEVER_OPENSEARCH_URL")
    if url:
        return url.rstrip("/")
    from lightretriever.node import LocalNode  # lazy: only the fallback needs the node manager

    node = LocalNode()
    state = node.read_state()
    if not state.get("url") or not state.get("pid"):
        raise NodeError(
            f"no OpenSearch URL: pass --opensearch URL, set LIGHTRETRIEVER_OPENSEARCH_URL, or start the local "
            f"node with `lightretriever node start` (no running node recorded in {node.state_file})"
        )
    return state["url"]


def get_client(url: str | argparse.Namespace | None = None, *, timeout: float = DEFAULT_TIMEOUT, **options):
    """opensearch-py client. `options` are `_client_kwargs`'s: basic auth (else
    LIGHTRETRIEVER_OPENSEARCH_USER/PASSWORD), TLS verification and CA bundle, and gzip."""
    from opensearchpy import OpenSearch

    if isinstance(url, argparse.Namespace):  # get_client(args) from a command that used add_connection_args
        return client_from_args(url, timeout=timeout)
    return OpenSearch(**_client_kwargs(url, timeout=timeout, **options))


def get_async_client(url: str | None = None, **options):
    """The asyncio client (opensearch-py's AsyncOpenSearch over aiohttp), configured as get_client.
    Close it with `await client.close()`."""
    try:
        from opensearchpy import AsyncOpenSearch
    except ImportError as exc:  # opensearch-py leaves AsyncOpenSearch out without aiohttp
        raise NodeError("the asyncio client needs aiohttp: pip install 'opensearch-py[async]'") from exc
    return AsyncOpenSearch(**_client_kwargs(url, **options))


def _client_kwargs(
    url: str | None,
    *,
    username: str | None = None,
    password: str | None = None,
    ca_certs: str | None = None,
    verify_certs: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    http_compress: bool | None = None,
) -> dict:
    """TLS certificates are verified unless verify_certs=False; ca_certs names a CA bundle for private CAs.
    http_compress=None: gzip for a remote cluster, none for a node on this machine (see wants_gzip)."""
    url = resolve_url(url)
    if not logging.getLogger("opensearch").level:  # one INFO line per request drowns the CLI's own output
        logging.getLogger("opensearch").setLevel(logging.WARNING)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise NodeError(f"OpenSearch URL {url!r} is not http(s)://host[:port]")
    username = username or os.environ.get("LIGHTRETRIEVER_OPENSEARCH_USER")
    password = password or os.environ.get("LIGHTRETRIEVER_OPENSEARCH_PASSWORD")
    if bool(username) != bool(password):
        raise NodeError(
            "basic auth needs both a user and a password (LIGHTRETRIEVER_OPENSEARCH_USER/PASSWORD)"
        )
    kwargs = {
        "hosts": [url],
        "timeout": timeout,
        "http_compress": wants_gzip(parsed.hostname) if http_compress is None else http_compress,
        "retry_on_timeout": True,
        "max_retries": 2,
    }
    if username:
        kwargs["http_auth"] = (username, password)
    if parsed.scheme == "https":
        kwargs.update(use_ssl=True, verify_certs=verify_certs, ssl_show_warn=verify_certs)
        if ca_certs:
            if not os.path.isfile(ca_certs):
                raise NodeError(f"CA bundle {ca_certs} does not exist")
            kwargs["ca_certs"] = ca_certs
    return kwargs


def wants_gzip(hostname: str) -> bool:
    """Gzip pays on a network, not on loopback: there it only burns CPU on both ends (client and node
    share the cores). Measured: precomputed ingest 114 -> 226 docs/s without it, and the search
    benchmark in docs/benchmarks.md. $LIGHTRETRIEVER_OPENSEARCH_GZIP=1/0 overrides."""
    forced = os.environ.get("LIGHTRETRIEVER_OPENSEARCH_GZIP")
    if forced is not None:
        return forced.strip().lower() not in ("0", "false", "no", "off", "")
    if hostname == "localhost":
        return False
    try:
        return not ipaddress.ip_address(hostname).is_loopback
    except ValueError:  # a DNS name: assume a remote cluster
        return True


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """--opensearch, --user, --password, --ca-certs, --insecure for any command that talks to OpenSearch."""
    group = parser.add_argument_group("OpenSearch connection")
    group.add_argument(
        "--opensearch",
        metavar="URL",
        help="cluster URL (default $LIGHTRETRIEVER_OPENSEARCH_URL, else the local node)",
    )
    group.add_argument("--user", help="basic-auth user (default $LIGHTRETRIEVER_OPENSEARCH_USER)")
    group.add_argument("--password", help="basic-auth password (default $LIGHTRETRIEVER_OPENSEARCH_PASSWORD)")
    group.add_argument("--ca-certs", metavar="PEM", help="CA bundle to verify the cluster's TLS certificate")
    group.add_argument(
        "--insecure", action="store_true", help="do not verify TLS certificates (testing only)"
    )


def client_from_args(args: argparse.Namespace, **kwargs):
    """get_client() from the options add_connection_args() added."""
    return get_client(
        getattr(args, "opensearch", None),
        username=getattr(args, "user", None),
        password=getattr(args, "password", None),
        ca_certs=getattr(args, "ca_certs", None),
        verify_certs=not getattr(args, "insecure", False),
        **kwargs,
    )
