"""A tiny word-level tokenizer and token table, so rewriting is tested without a real model, and a
hand-made index on the real node whose rankings can be worked out by hand."""

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


S = 2**-0.5
DOCS = [
    # doc_id, dense (unit), sparse {token id: weight}, title, text, lang
    ("d1", [1, 0, 0, 0], {"2": 2.0}, "Apples", "apple orchards in spring", "en"),
    ("d2", [S, S, 0, 0], {"2": 1.0, "3": 1.0}, "Fruit bowl", "apple and banana salad", "en"),
    ("d3", [0, 1, 0, 0], {"3": 3.0}, "Bananas", "banana plantations", "de"),
    ("d4", [0, 0, 1, 0], {"4": 1.5}, "Cherries", "cherry blossom", "en"),
    ("d5", [0, 0, S, S], {"4": 0.5, "5": 2.5}, "Dates", "date palms and cherry trees", "de"),
]


@pytest.fixture
def tiny_index(os_client, unique_index):
    from lightretriever.mappings import index_body

    name = unique_index()
    os_client.indices.create(index=name, body=index_body(4))
    for doc_id, dense, sparse, title, text, lang in DOCS:
        os_client.index(
            index=name,
            id=doc_id,
            body={
                "doc_id": doc_id,
                "dense": dense,
                "sparse": sparse,
                "title": title,
                "text": text,
                "metadata": {"lang": lang},
            },
        )
    os_client.indices.refresh(index=name)
    return name
