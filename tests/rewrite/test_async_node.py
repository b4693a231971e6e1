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
