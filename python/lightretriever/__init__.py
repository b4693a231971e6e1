"""LightRetriever for OpenSearch.

Data flow: bundle -> encode -> ingest -> rewrite -> fuse -> evaluate.
Query-time code (bundle loading, light query encoding, rewriting, fusion) never imports torch.
"""

__version__ = "0.1.0"
