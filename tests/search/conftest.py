"""A tiny word-level tokenizer and token table, so rewriting is tested without a real model."""

import numpy as np
import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from lightretriever.encode.query import LightQueryEncoder
from lightretriever.rewrite import QueryRewriter

VOCAB = {"[PAD]": 0, "[UNK]": 1, "apple": 2, "banana": 3, "cherry": 4, "date": 5}


def tiny_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return tokenizer


def tiny_table() -> np.ndarray:
    table = np.zeros((len(VOCAB), 4), dtype=np.float16)
    table[2] = [1, 0, 0, 0]
    table[3] = [0, 1, 0, 0]
    table[4] = [0, 0, 1, 0]
    table[5] = [0, 0, 0, 1]
    return table


@pytest.fixture
def tiny_encoder() -> LightQueryEncoder:
    return LightQueryEncoder(tiny_tokenizer(), tiny_table(), max_length=8, unk_id=1, exclude_ids=[0, 1])


@pytest.fixture
def tiny_rewriter(tiny_encoder) -> QueryRewriter:
    return QueryRewriter(tiny_encoder)

