"""`lightretriever plugin upload|get|delete|search`: the OpenSearch plugin's model registry and query."""

from __future__ import annotations

import argparse
import json
import sys

from lightretriever.client import add_connection_args, client_from_args
from lightretriever.errors import QueryError
from lightretriever.fuse.registry import DEFAULT_NAME as DEFAULT_FUSION
from lightretriever.fuse.registry import NAMES as FUSIONS


def _command(sub, name: str, func, help: str) -> argparse.ArgumentParser:
    """A `plugin` subcommand with the connection flags every one of them takes."""
    parser = sub.add_parser(name, help=help)
    add_connection_args(parser)
    parser.set_defaults(func=func)
    return parser


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plugin", help="the OpenSearch plugin: upload bundles, run server-side queries")
    sub = parser.add_subparsers(dest="plugin_command", required=True)

    upload = _command(sub, "upload", _upload, help="upload a bundle to the plugin's model registry")
    upload.add_argument("--bundle", required=True, help="bundle directory")
    upload.add_argument("--name", help="model name (default: lr-<hash of the bundle's file checksums>)")
    upload.add_argument("--force", action="store_true", help="upload even when the node holds the same files")
    upload.add_argument("--chunk-mb", type=float, help="send in chunks of this many MiB (default: only bundles over 48 MiB, 16 MiB chunks)")

    get = _command(sub, "get", _get, help="show a stored model's manifest and file checksums")
    get.add_argument("name")

    delete = _command(sub, "delete", _delete, help="remove a model from the registry")
    delete.add_argument("name")

    search = _command(sub, "search", _search, help="run a `lightretriever` query: the node encodes and fuses")
    search.add_argument("query", help="query text")
    search.add_argument("--index", required=True)
    search.add_argument("--model", required=True, help="model name in the plugin's registry")
    search.add_argument("-k", "--k", type=int, default=100, help="hits per system before fusion (default 100)")
    search.add_argument("--size", type=int, default=10, help="fused hits to return (default 10)")
    search.add_argument("--fusion", choices=FUSIONS, help="default: the bundle's")
    search.add_argument("--filter", help="an OpenSearch query clause as JSON, applied to every sub-query")
    search.add_argument("--json", action="store_true", help="print JSON instead of a table")

    parity = _command(
        sub, "parity", _parity, help="check the plugin returns the Python retriever's top-k on a dataset's queries"
    )
    parity.add_argument("--bundle", required=True, help="the bundle the index was built with")
    parity.add_argument("--index", required=True)
    parity.add_argument("--dataset", required=True, help="BEIR dataset directory (its split's queries are used)")
    parity.add_argument("--split", default="test")
    parity.add_argument("--model", help="registry name (default: upload the bundle as lr-<hash>)")
    parity.add_argument("--fusion", default=DEFAULT_FUSION, choices=FUSIONS)
    parity.add_argument("--queries", type=int, help="first N queries only")
    parity.add_argument("-k", "--k", type=int, default=10)
    parity.add_argument("--depth", type=int, default=100)
    parity.add_argument("--tolerance", type=float, default=1e-3, help="largest score difference that still agrees")
    parity.add_argument("--scope", choices=["index", "shard"], help="the plugin's fusion scope (default: the node's, index)")


def _upload(args: argparse.Namespace) -> int:
    from lightretriever.plugin import upload_bundle

    chunk = None if args.chunk_mb is None else int(args.chunk_mb * (1 << 20))
    result = upload_bundle(client_from_args(args), args.bundle, args.name, force=args.force, chunk_bytes=chunk)
    state = "already stored" if result.get("skipped") else "uploaded"
    print(f"{state}: model {result['name']} ({len(result.get('files', {}))} files)")
    return 0


def _get(args: argparse.Namespace) -> int:
    from lightretriever.plugin import get_model

    stored = get_model(client_from_args(args), args.name)
    if stored is None:
        raise QueryError(f"model {args.name!r} is not in the plugin's registry")
    print(json.dumps(stored, indent=2))
    return 0


def _delete(args: argparse.Namespace) -> int:
    from lightretriever.plugin import delete_model

    if not delete_model(client_from_args(args), args.name):
        raise QueryError(f"model {args.name!r} is not in the plugin's registry")
    print(f"deleted model {args.name}")
    return 0


def _search(args: argparse.Namespace) -> int:
    from lightretriever.plugin.query import search_result

    filter_clause = None
    if args.filter:
        try:
            filter_clause = json.loads(args.filter)
        except json.JSONDecodeError as exc:
            raise QueryError(f"--filter is not JSON: {exc}") from None
    result = search_result(client_from_args(args), args.index, args.model, args.query, args.k, args.size, args.fusion, filter_clause)
    hits = result.hits
    if result.truncated:
        print("warning: the query is longer than the model's query limit; the node searched the same prefix of it "
              "with every system (docs/design.md, Long queries)", file=sys.stderr)
    if args.json:
        print(json.dumps([{"id": doc_id, "score": score} for doc_id, score in hits]))
    else:
        for rank, (doc_id, score) in enumerate(hits, start=1):
            print(f"{rank:3d}  {score:.6f}  {doc_id}")
    return 0


def _parity(args: argparse.Namespace) -> int:
    from lightretriever.bundle import Bundle
    from lightretriever.evaluate.dataset import load_dataset
    from lightretriever.plugin import upload_bundle
    from lightretriever.plugin.parity import compare

    client = client_from_args(args)
    model = args.model or upload_bundle(client, args.bundle)["name"]
    queries = list(load_dataset(args.dataset, args.split).queries.values())[: args.queries]
    report = compare(client, args.index, Bundle.load(args.bundle), model, queries, args.fusion, k=args.k, depth=args.depth,
                     tolerance=args.tolerance, scope=args.scope)
    print(f"{args.fusion}: top-{args.k} ids equal and scores within {args.tolerance:g} for {report.agreeing}/{report.queries} "
          f"queries ({100 * report.share:.1f}%); max score difference {report.max_score_diff:.2e}")
    for miss in report.misses:
        print(miss)
    return 0 if report.share >= 0.99 else 1
