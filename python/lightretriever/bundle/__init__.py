"""Model bundles: manifest, loading/verification and updates (no torch). Building lives in bundle.build."""

from lightretriever.bundle.bundle import Bundle, sha256_file, tokenizer_vocab_size
from lightretriever.bundle.manifest import (
    FORMAT_VERSION,
    LEARNED_FUSION_FILE,
    MANIFEST_FILE,
    TABLE_FILE,
    TOKENIZER_FILE,
)

__all__ = [
    "FORMAT_VERSION",
    "LEARNED_FUSION_FILE",
    "MANIFEST_FILE",
    "TABLE_FILE",
    "TOKENIZER_FILE",
    "Bundle",
    "sha256_file",
    "tokenizer_vocab_size",
]
