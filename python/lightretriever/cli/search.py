"""`lightretriever search "query"`: hybrid search of an index with a bundle, printing fused hits."""

from __future__ import annotations

import argparse
import json

from lightretriever.cli.dsl import parse_filter, parse_systems
from lightretriever.client import add_connection_args, client_from_args
from lightretriever.fuse.registry import NAMES as FUSIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("search", help="search an index: light query encoding, hybrid fusion")
    parser.add_argument("query", help="query text")
    parser.add_argument("--bundle", required=True, help="model bundle directory")
    parser.add_argument("--index", required=True, help="index to search")
    parser.add_argument("-k", "--k", type=int, default=10, help="hits to return (default 10)")
    parser.add_argument("--depth", type=int, default=100, help="hits per system before fusion (default 100)")
    parser.add_argument("--fusion", choices=FUSIONS, help="default: the bundle's")
    parser.add_argument(
        "--systems", help="comma-separated sub-queries (default: those the fusion reads, as eval and the plugin)"
    )
    parser.add_argument("--filter", help="an OpenSearch query clause as JSON, applied to every sub-query")
    parser.add_argument(
        "--strategy",
        choices=["msearch", "named"],
        default="msearch",
        help="how the sub-queries are sent (see docs/sub-queries.md)",
    )
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    add_connection_args(parser)
    parser.set_defaults(func=_search)


def _search(args: argparse.Namespace) -> int:
    from lightretriever.bundle import Bundle
    from lightretriever.bundle.identity import check_index
    from lightretriever.retriever import Retriever

    client, bundle = client_from_args(args), Bundle.load(args.bundle)
    check_index(client, args.index, bundle)
    retriever = Retriever(
        client,
        args.index,
        bundle,
        fusion=args.fusion,
        systems=parse_systems(args.systems) if args.systems else None,
        depth=args.depth,
        strategy=args.strategy,
    )
    result = retriever.search(args.query, args.k, parse_filter(args.filter))
    if args.json:
        print(
            json.dumps(
                {
                    "hits": [{"doc_id": h.doc_id, "score": h.score} for h in result.hits],
                    "fusion": result.fusion,
                    "systems": {
                        s: [{"doc_id": d, "score": v} for d, v in hits] for s, hits in result.systems.items()
                    },
                    "truncated": result.truncated,
                    "warnings": result.warnings,
                    "timings_ms": {name: round(1000 * sec, 3) for name, sec in result.timings.items()},
                },
                indent=2,
            )
        )
        return 0
    for warning in result.warnings:
        print(f"warning: {warning}")
    for rank, hit in enumerate(result.hits, start=1):
        print(f"{rank:>3}  {hit.score:.6f}  {hit.doc_id}")
    print(
        f"({result.fusion or ','.join(result.systems)}; {1000 * result.timings['total']:.1f} ms, "
        f"encode {1000 * result.timings['encode']:.2f} ms)"
    )
    return 0
