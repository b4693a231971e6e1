"""`lightretriever demo`: the main job. For now: start (or reuse) the local node and show health and plugins."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="start the local node and show its health and plugins")
    parser.add_argument(
        "--home", help="node cache directory (default $LIGHTRETRIEVER_HOME or ~/.cache/lightretriever)"
    )
    parser.add_argument(
        "--plugin", action="append", default=[], metavar="ZIP", help="extra plugin zip to install"
    )
    parser.add_argument("--heap", default="1g", help="JVM heap of the local node (default 1g)")
    parser.add_argument(
        "--opensearch",
        metavar="URL",
        help="use this cluster instead of the local node (also $LIGHTRETRIEVER_OPENSEARCH_URL)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    from lightretriever.client import get_client

    url = args.opensearch or os.environ.get("LIGHTRETRIEVER_OPENSEARCH_URL")
    if not url:
        from lightretriever.node import LocalNode

        state = LocalNode(args.home, heap=args.heap, plugins=args.plugin).start()
        url = state["url"]
        how = "reused" if state["reused"] else f"started in {state['seconds_to_healthy']:.1f}s"
        print(f"local OpenSearch node {how}: {url}")
    client = get_client(url)
    info = client.info()
    health = client.cluster.health()
    print(
        f"cluster {health['cluster_name']!r}: OpenSearch {info['version']['number']}, status {health['status']}, "
        f"{health['number_of_nodes']} node(s), {health['active_shards']} active shard(s)"
    )
    print("plugins:")
    for row in client.cat.plugins(format="json", h="component,version"):
        print(f"  {row['component']} {row['version']}")
    return 0
