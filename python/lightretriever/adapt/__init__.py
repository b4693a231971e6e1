"""Label-free adaptation of a bundle's QUERY side to an ingested corpus (docs/design.md, "Query-side
adaptation"): table post-processing folded into the token table, then `lightretriever adapt` distillation
of the table from the bundle's own full query encoder on pseudo-queries. The document side never changes.

Never reads relevance judgments: inputs are the index's stored documents and, optionally, a query log.
"""
