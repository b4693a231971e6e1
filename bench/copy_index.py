"""Copy an ingested index (vectors included) from one cluster into a new index with N shards on another.

For parity and cost runs on other shard layouts without re-encoding the corpus:

    python bench/copy_index.py --source-url http://127.0.0.1:9200 --source-index scifact \
        --target-url $LIGHTRETRIEVER_OPENSEARCH_URL --target-index i13a-scifact-3 --shards 3

The target index is created from mappings/ (the source's dense dimension, `shards` primaries, `replicas`).
"""

from __future__ import annotations

import argparse
import sys

from opensearchpy import helpers

from lightretriever.client import get_client
from lightretriever.mappings import create_index, dense_dimension


def copy_index(source, source_index: str, target, target_index: str, shards: int, replicas: int = 0) -> int:
    (dim,) = set(dense_dimension(source, source_index).values())
    if not create_index(target, target_index, dim, shards=shards, replicas=replicas):
        raise SystemExit(f"target index {target_index!r} exists already: delete it or choose another name")
    actions = ({"_index": target_index, "_id": hit["_id"], "_source": hit["_source"]}
               for hit in helpers.scan(source, index=source_index, query={"query": {"match_all": {}}}, size=500))
    copied, errors = helpers.bulk(target, actions, chunk_size=200, raise_on_error=False, request_timeout=300)
    if errors:
        raise SystemExit(f"{len(errors)} documents failed, first: {errors[0]}")
    target.indices.refresh(index=target_index)
    expected = source.count(index=source_index)["count"]
    if copied != expected:
        raise SystemExit(f"copied {copied} documents, the source holds {expected}")
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source-url", required=True)
    parser.add_argument("--source-index", required=True)
    parser.add_argument("--target-url", required=True)
    parser.add_argument("--target-index", required=True)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=0)
    args = parser.parse_args(argv)
    copied = copy_index(get_client(args.source_url), args.source_index, get_client(args.target_url), args.target_index,
                        args.shards, args.replicas)
    print(f"copied {copied} documents into {args.target_index} ({args.shards} shards, {args.replicas} replicas)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
