"""Query text -> OpenSearch DSL (built as dicts, never by splicing text into strings) and its execution."""

from lightretriever.rewrite.dsl import bm25_clause, dense_clause, search_body, sparse_clause
from lightretriever.rewrite.rewriter import SYSTEMS, QueryRewriter, RewrittenQuery, to_dsl
from lightretriever.rewrite.validate import MAX_K, check_k, check_text

__all__ = [
    "MAX_K",
    "SYSTEMS",
    "QueryRewriter",
    "RewrittenQuery",
    "bm25_clause",
    "check_k",
    "check_text",
    "dense_clause",
    "search_body",
    "sparse_clause",
    "to_dsl",
]
