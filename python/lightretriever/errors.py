"""Errors shown to users: each names the record, query or file and the reason."""


class LightRetrieverError(Exception):
    """Base class: the CLI prints these as one line instead of a traceback."""


class NodeError(LightRetrieverError):
    """The local OpenSearch node could not be fetched, configured, started or reached."""


class AccessError(NodeError):
    """The cluster was reached but refused the connection or request: TLS trust, credentials, permissions."""


class MappingError(LightRetrieverError):
    """An index does not match what the model needs (dimension, field types)."""


class BundleError(LightRetrieverError):
    """A model bundle is corrupt, incomplete or does not match its tokenizer or table."""


class QueryError(LightRetrieverError):
    """A query cannot be encoded or sent (empty, all-unknown tokens, k out of range, missing index)."""


class RecordError(LightRetrieverError):
    """An input record is invalid; ingest sends it to the dead-letter file."""
