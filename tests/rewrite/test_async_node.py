"""AsyncRetriever against the real node: the same hits, fusion and errors as Retriever, many queries in flight."""

import asyncio

import pytest

from lightretriever.client import get_async_client
from lightretriever.errors import QueryError
from lightretriever.retriever import AsyncRetriever, Retriever

pytestmark = pytest.mark.node

QUERIES = ["apple apple banana", "banana date", "cherry", "date palms", "apple cherry date"]


def _run(coroutine):
    return asyncio.run(coroutine)


@pytest.mark.parametrize("fusion,strategy", [("linear", "msearch"), ("rrf", "msearch"), ("rrf", "named")])
def test_async_results_equal_sync(os_client, opensearch_url, tiny_index, tiny_rewriter, fusion, strategy):
    options = {"rewriter": tiny_rewriter, "fusion": fusion, "depth": 5, "strategy": strategy}
    sync = Retriever(os_client, tiny_index, None, **options)
    expected = [sync.search(text, k=4) for text in QUERIES]

    async def concurrently():
        retriever = AsyncRetriever(get_async_client(opensearch_url), tiny_index, None, **options)
        try:
            return await asyncio.gather(*(retriever.search(text, k=4) for text in QUERIES))  # all in flight
        finally:
            await retriever.close()

    for want, got in zip(expected, _run(concurrently())):
        assert got.hits == want.hits and got.systems == want.systems and got.fusion == want.fusion
        assert got.timings["total"] >= got.timings["search"] > 0 and got.timings["encode"] > 0


def test_async_errors_name_the_index_and_the_reason(opensearch_url, tiny_index, tiny_rewriter):
    async def attempt(index: str, text: str, k: int = 3):
        retriever = AsyncRetriever(get_async_client(opensearch_url), index, None, rewriter=tiny_rewriter, depth=5)
        try:
            return await retriever.search(text, k=k)
        finally:
            await retriever.close()

    with pytest.raises(QueryError, match="'no-such-index-lightretriever' does not exist"):
        _run(attempt("no-such-index-lightretriever", "apple"))
    with pytest.raises(QueryError, match="out of range"):
        _run(attempt(tiny_index, "apple", k=0))
    with pytest.raises(QueryError, match="empty"):
        _run(attempt(tiny_index, "   "))


def test_async_open_refuses_an_index_of_another_document_encoder(opensearch_url, minilm_bundle, unique_index,
                                                                  caplog):
    """AsyncRetriever.open checks the index's recorded document encoder, as Retriever.open does: its own
    encoder's index is searched, another encoder's is refused on the first search with the reason."""
    from lightretriever.bundle import Bundle
    from lightretriever.bundle.identity import document_encoder_id
    from lightretriever.client import get_client
    from lightretriever.errors import MappingError
    from lightretriever.mappings import create_index

    own, other, legacy = unique_index(), unique_index(), unique_index()
    client = get_client(opensearch_url)
    create_index(client, own, 384, encoder_id=document_encoder_id(Bundle.load(minilm_bundle)))
    create_index(client, other, 384, encoder_id="0" * 64)  # same dimension, another document encoder
    create_index(client, legacy, 384)  # records none: searched, with a warning

    async def search(index: str):
        retriever = AsyncRetriever.open(minilm_bundle, index, get_async_client(opensearch_url))
        try:
            first = await retriever.search("microglia", k=3)
            assert retriever._unchecked_bundle is None  # checked once, not again
            return first, await retriever.search("neurons", k=3)
        finally:
            await retriever.close()

    assert _run(search(own))[0].hits == []  # empty index, accepted
    with pytest.raises(MappingError, match=rf"index '{other}' was written by document encoder 000000000000…"):
        _run(search(other))

    async def refused_twice():
        retriever = AsyncRetriever.open(minilm_bundle, other, get_async_client(opensearch_url))
        try:
            results = await asyncio.gather(*(retriever.search("microglia") for _ in range(3)), return_exceptions=True)
        finally:
            await retriever.close()
        return results

    assert all(isinstance(r, MappingError) for r in _run(refused_twice()))
    caplog.clear()
    _run(search(legacy))
    assert "records no document encoder" in caplog.text
    # the sync path says the same about the same index
    with pytest.raises(MappingError, match="document encoder"):
        Retriever.open(minilm_bundle, other, client)
