"""`lightretriever dsl "query"`: print the OpenSearch request for a query (no node needed)."""

from __future__ import annotations

import argparse
import json
import sys

from lightretriever.errors import QueryError
from lightretriever.rewrite.rewriter import SYSTEMS


def parse_filter(text: str | None) -> dict | None:
    """--filter takes one OpenSearch query clause as JSON, e.g. '{"term": {"metadata.lang": "en"}}'."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QueryError(f"--filter {text!r}: not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict) or len(value) != 1:
        raise QueryError(f"--filter {text!r}: must be one query clause, a JSON object with one key")
    return value


def parse_systems(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dsl", help="print the OpenSearch query body for a text query")
    parser.add_argument("query", help="query text")
    parser.add_argument("--bundle", required=True, help="model bundle directory")
    parser.add_argument("--index", default="<index>", help="index name for the msearch headers")
    parser.add_argument("--depth", "-k", type=int, default=100, help="hits per system (default 100)")
    parser.add_argument("--filter", help="an OpenSearch query clause as JSON, applied to every sub-query")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated sub-queries (default: all)")
    parser.add_argument(
        "--form",
        choices=["msearch", "named", "bodies"],
        default="msearch",
        help="msearch: NDJSON for POST /_msearch (default); named: one bool body for "
        "include_named_queries_score; bodies: {system: body}",
    )
    parser.set_defaults(func=_dsl)


def _dsl(args: argparse.Namespace) -> int:
    from lightretriever.bundle import Bundle
    from lightretriever.rewrite import QueryRewriter, to_dsl

    rewriter = QueryRewriter.from_bundle(Bundle.load(args.bundle))
    text = to_dsl(
        args.query,
        rewriter,
        index=args.index,
        depth=args.depth,
        filter=parse_filter(args.filter),
        systems=parse_systems(args.systems),
        form=args.form,
        indent=None if args.form == "msearch" else 2,
    )
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
