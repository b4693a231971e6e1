"""Copy an ingested index (vectors included) from one cluster into a new index with N shards on another.

For parity and cost runs on other shard layouts without re-encoding the corpus:

    python bench/copy_index.py --source-url http://127.0.0.1:9200 --source-index scifact \
        --target-url $LIGHTRETRIEVER_OPENSEARCH_URL --target-index i13a-scifact-3 --shards 3

The target index is created from mappings/ (the source's dense dimension, `shards` primaries, `replicas`).
`--segment-replication`: replicas copy the primaries' segment files instead of indexing each document again, so
every copy of a shard holds the same HNSW graph and term statistics and answers a query identically (parity
checks compare two requests that the cluster may route to different copies).
"""

from __future__ import annotations

import argparse
import sys

from opensearchpy import helpers

from lightretriever.client import get_client
from lightretriever.mappings import dense_dimension, index_body


def copy_index(source, source_index: str, target, target_index: str, shards: int, replicas: int = 0,
               segment_replication: bool = False) -> int:
    (dim,) = set(dense_dimension(source, source_index).values())
    if target.indices.exists(index=target_index):
        raise SystemExit(f"target index {target_index!r} exists already: delete it or choose another name")
    body = index_body(dim, shards=shards, replicas=replicas)
    if segment_replication:
        body["settings"]["index"]["replication.type"] = "SEGMENT"
    target.indices.create(index=target_index, body=body)
    actions = ({"_index": target_index, "_id": hit["_id"], "_source": hit["_source"]} for hit in _pages(source, source_index))
    copied, errors = helpers.bulk(target, actions, chunk_size=200, raise_on_error=False, request_timeout=300)
    if errors:
        raise SystemExit(f"{len(errors)} documents failed, first: {errors[0]}")
    target.indices.refresh(index=target_index)
    expected = source.count(index=source_index)["count"]
    if copied != expected:
        raise SystemExit(f"copied {copied} documents, the source holds {expected}")
    return copied


def _pages(client, index: str, size: int = 200):
    """Every document, in doc_id order (search_after: no scroll context held on the source)."""
    after = None
    while True:
        body = {"size": size, "sort": [{"doc_id": "asc"}], "query": {"match_all": {}}}
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=index, body=body, request_timeout=300)["hits"]["hits"]
        yield from hits
        if len(hits) < size:
            return
        after = hits[-1]["sort"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source-url", required=True)
    parser.add_argument("--source-index", required=True)
    parser.add_argument("--target-url", required=True)
    parser.add_argument("--target-index", required=True)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=0)
    parser.add_argument("--segment-replication", action="store_true", help="replicas copy segments (identical copies)")
    args = parser.parse_args(argv)
    target = get_client(args.target_url)
    copied = copy_index(get_client(args.source_url), args.source_index, target, args.target_index,
                        args.shards, args.replicas, args.segment_replication)
    target.cluster.health(index=args.target_index, params={"wait_for_status": "green", "timeout": "300s"}, request_timeout=330)
    target.indices.forcemerge(index=args.target_index, max_num_segments=1, request_timeout=600)
    target.indices.refresh(index=args.target_index)
    print(f"copied {copied} documents into {args.target_index} ({args.shards} shards, {args.replicas} replicas)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
