"""Score fusion: one algorithm per module (linear, rrf, learned), chosen by name in `registry`.

Every algorithm takes the ranked hits of each system, `{"dense": [(doc_id, score), ...], ...}`,
fuses over the union of candidates and returns `[(doc_id, fused_score), ...]` sorted by fused
score descending, ties by doc_id ascending (docs/design.md, "Fusion").
Learning the LightGBM model lives in `fuse.learn`; this package only applies it.
"""

from lightretriever.fuse.hits import SystemHits, validate_hits
from lightretriever.fuse.linear import fuse_linear
from lightretriever.fuse.rrf import fuse_rrf

__all__ = ["SystemHits", "fuse_linear", "fuse_rrf", "validate_hits"]
