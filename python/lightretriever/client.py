"""The one place that builds an opensearch-py client (local node, or an existing cluster)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import re
import ssl
from urllib.parse import unquote, urlparse

from lightretriever.errors import AccessError, NodeError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60
USER_ENV, PASSWORD_ENV, CA_CERTS_ENV = (
    "LIGHTRETRIEVER_OPENSEARCH_USER",
    "LIGHTRETRIEVER_OPENSEARCH_PASSWORD",
    "LIGHTRETRIEVER_OPENSEARCH_CA_CERTS",
)


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
    url, url_user, url_password = split_credentials(resolve_url(url))
    if not logging.getLogger("opensearch").level:
        # One INFO line per request drowns the CLI's own output, and a failed request logs a WARNING with the
        # whole traceback before the exception that says the same reaches the caller.
        logging.getLogger("opensearch").setLevel(logging.ERROR)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise NodeError(f"OpenSearch URL {url!r} is not http(s)://host[:port]")
    username = username or url_user or os.environ.get(USER_ENV)
    password = password or url_password or os.environ.get(PASSWORD_ENV)
    ca_certs = ca_certs or os.environ.get(CA_CERTS_ENV) or None
    if bool(username) != bool(password):
        raise NodeError(f"basic auth needs both a user and a password ({USER_ENV}/{PASSWORD_ENV})")
    if username and parsed.scheme == "http" and not _is_loopback(parsed.hostname):
        log.warning("warning: basic-auth credentials go to %s over plain http, unencrypted; use https", url)
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
        # ssl_show_warn=False: one warning here instead of urllib3's on every request
        kwargs.update(use_ssl=True, verify_certs=verify_certs, ssl_show_warn=False)
        if not verify_certs:
            log.warning(
                "warning: TLS certificate verification is off (--insecure): the connection to %s is encrypted, "
                "but the server is not authenticated, so anyone on the path can impersonate the cluster and "
                "read the credentials. For testing only; pass --ca-certs PEM instead.",
                url,
            )
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
    return not _is_loopback(hostname)


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:  # a DNS name: assume a remote cluster
        return False


# -- credentials stay out of URLs, messages and child command lines -----------------------------------------


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """https://user:pass@host:port -> ("https://host:port", user, pass): the URL that is logged and shown
    never carries them."""
    parsed = urlparse(url)
    if parsed.username is None and parsed.password is None:
        return url, None, None
    netloc = parsed.netloc.rpartition("@")[2]
    user = unquote(parsed.username) if parsed.username else None
    password = unquote(parsed.password) if parsed.password else None
    return parsed._replace(netloc=netloc).geturl(), user, password


def secret_free_command(argv: list[str], env: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """(argv, env) for a child process of a tool: --password and credentials in an --opensearch URL move
    from the command line, which `ps` shows to every user, into the child's environment."""
    env = dict(os.environ if env is None else env)
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        flag, eq, value = arg.partition("=")
        if flag in ("--password", "--opensearch", "--user"):
            value = value if eq else next(args, "")
            if flag == "--password":
                env[PASSWORD_ENV] = value
                continue
            if flag == "--opensearch":
                value, user, password = split_credentials(value)
                if user:
                    env[USER_ENV] = user
                if password:
                    env[PASSWORD_ENV] = password
            out += [flag, value]
        else:
            out.append(arg)
    return out, env


# -- connection failures the user can fix: TLS trust, credentials, permissions --------------------------------

_VERIFY_REASON = re.compile(r"certificate verify failed: ([^()\]\[\\'\"]+)", re.IGNORECASE)


def access_error(exc: BaseException) -> AccessError | None:
    """A clear AccessError for a TLS verification failure, a 401 or a 403 from opensearch-py (sync or
    async); None for anything else. Its text names the cause and the fix, never the credentials."""
    from opensearchpy.exceptions import ConnectionError as OSConnectionError
    from opensearchpy.exceptions import TransportError

    if isinstance(exc, AccessError):
        return exc
    if isinstance(exc, OSConnectionError) and _tls_failure(exc):
        match = _VERIFY_REASON.search(_chain_text(exc))
        detail = f" ({match.group(1).strip()})" if match else ""
        return AccessError(
            f"TLS: the cluster's certificate could not be verified{detail}, so nothing was sent. Give the CA "
            f"that signed it with --ca-certs PEM (or ${CA_CERTS_ENV}); --insecure skips verification "
            f"(testing only)."
        )
    if isinstance(exc, TransportError) and exc.status_code == 401:
        return AccessError(
            "OpenSearch answered 401 Unauthorized: the user name or password is missing or wrong "
            f"(--user/--password, or ${USER_ENV}/${PASSWORD_ENV})"
        )
    if isinstance(exc, TransportError) and exc.status_code == 403 and _error_type(exc) in (None, "security_exception"):
        # the security plugin's refusal, or a proxy's; not an index block (cluster_block_exception is a 403 too)
        from lightretriever.plugin.errors import reason

        return AccessError(
            f"OpenSearch answered 403 Forbidden: the user lacks a permission for this request ({reason(exc)}); "
            "docs/security.md lists the roles each command needs"
        )
    return None


def _error_type(exc) -> str | None:
    error = exc.info.get("error") if isinstance(exc.info, dict) else None
    return error.get("type") if isinstance(error, dict) else None


def _chain(exc: BaseException | None):
    """The exception, then what it wraps: opensearch-py keeps the cause in `.info`, others in __cause__."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        info = getattr(exc, "info", None)
        exc = info if isinstance(info, BaseException) else (exc.__cause__ or exc.__context__)


def _chain_text(exc: BaseException) -> str:
    return " | ".join(str(e) for e in _chain(exc))


def _tls_failure(exc: BaseException) -> bool:
    """urllib3's failures arrive as opensearch-py SSLError; aiohttp's as a ConnectionError wrapping one."""
    from opensearchpy.exceptions import SSLError

    return any(isinstance(e, (SSLError, ssl.SSLError)) for e in _chain(exc)) or (
        "CERTIFICATE_VERIFY_FAILED" in _chain_text(exc)
    )


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """--opensearch, --user, --password, --ca-certs, --insecure for any command that talks to OpenSearch."""
    group = parser.add_argument_group("OpenSearch connection")
    group.add_argument(
        "--opensearch",
        metavar="URL",
        help="cluster URL (default $LIGHTRETRIEVER_OPENSEARCH_URL, else the local node)",
    )
    group.add_argument("--user", help=f"basic-auth user (default ${USER_ENV})")
    group.add_argument(
        "--password",
        help=f"basic-auth password (default ${PASSWORD_ENV}; prefer the variable: `ps` shows arguments)",
    )
    group.add_argument(
        "--ca-certs", metavar="PEM", help=f"CA bundle to verify the cluster's TLS certificate (default ${CA_CERTS_ENV})"
    )
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
