"""opensearch-py errors from the plugin -> the project's error classes, with the node's reason."""

from __future__ import annotations

from opensearchpy.exceptions import NotFoundError, RequestError, TransportError

from lightretriever.client import access_error
from lightretriever.errors import AccessError, BundleError, QueryError


def reason(exc: TransportError) -> str:
    """The deepest `reason` OpenSearch gave (root_cause / caused_by), else the error text."""
    info = exc.info if isinstance(exc.info, dict) else {}
    error = info.get("error", {})
    if isinstance(error, dict):
        for cause in error.get("root_cause") or []:
            if cause.get("reason"):
                return str(cause["reason"])
        while isinstance(error.get("caused_by"), dict):
            error = error["caused_by"]
        if error.get("reason"):
            return str(error["reason"])
    return str(exc.error or exc)


def query_error(exc: TransportError, what: str) -> QueryError | AccessError:
    denied = access_error(exc)
    if denied is not None:
        return denied
    if isinstance(exc, (RequestError, NotFoundError)):
        return QueryError(f"{what}: {reason(exc)}")
    return QueryError(f"{what}: OpenSearch error {exc.status_code}: {reason(exc)}")


def bundle_error(exc: TransportError, what: str) -> BundleError | AccessError:
    denied = access_error(exc)
    if denied is not None:
        return denied
    return BundleError(f"{what}: {reason(exc)}")
