"""`lightretriever eval`: run systems over a dataset split through OpenSearch; JSON, Markdown, PNG."""

from __future__ import annotations

import argparse

from lightretriever.cli.dsl import parse_systems
from lightretriever.client import add_connection_args, client_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    from lightretriever.evaluate.systems import ALL_SYSTEMS

    parser = subparsers.add_parser("eval", help="evaluate systems on a BEIR dataset already ingested")
    parser.add_argument("--dataset", required=True, help="BEIR dataset directory")
    parser.add_argument("--split", default="test", help="qrels split (default test)")
    parser.add_argument(
        "--qrels", help="explicit qrels file (default qrels/<split>.tsv, or _binary for -1 codes)"
    )
    parser.add_argument("--bundle", required=True, help="model bundle directory")
    parser.add_argument("--index", required=True, help="index holding the dataset's corpus")
    parser.add_argument(
        "--systems", default=",".join(ALL_SYSTEMS), help=f"comma-separated, from {', '.join(ALL_SYSTEMS)}"
    )
    parser.add_argument("-k", "--k", type=int, default=100, help="hits per query (default 100, for R@100)")
    parser.add_argument("--depth", type=int, default=100, help="hits per system before fusion")
    parser.add_argument("--strategy", choices=["msearch", "named"], default="msearch")
    parser.add_argument("--max-queries", type=int, help="evaluate only the first N queries")
    parser.add_argument("--no-hnsw", action="store_true", help="skip the exact brute-force HNSW recall")
    parser.add_argument("--out", default="eval-results", help="output directory (default ./eval-results)")
    parser.add_argument("--stem", help="output file name stem (default <dataset>-<split>)")
    add_connection_args(parser)
    parser.set_defaults(func=_eval)


def _eval(args: argparse.Namespace) -> int:
    from lightretriever.evaluate.api import evaluate_dataset

    report = evaluate_dataset(
        args.dataset,
        args.bundle,
        args.index,
        client_from_args(args),
        split=args.split,
        qrels_file=args.qrels,
        systems=parse_systems(args.systems),
        k=args.k,
        depth=args.depth,
        strategy=args.strategy,
        max_queries=args.max_queries,
        hnsw=not args.no_hnsw,
        out_dir=args.out,
        out_stem=args.stem,
    )
    print(report.to_markdown())
    return 0
