"""`lightretriever demo`: the main job, end to end on a real node.

Start (or reuse) the local node, build (or reuse) the zero-shot MiniLM bundle, ingest the dataset's
corpus (resumable), adapt the bundle's query side to the ingested corpus without labels (`adapt`: table
post-processing + distillation on pseudo-queries), train the learned fusion on the train split when the
bundle has none, evaluate every system on the test split through OpenSearch, and print one table with the
zero-shot and the adapted light systems side by side.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from lightretriever.client import add_connection_args, client_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="main job: node, bundle, ingest a BEIR dataset, train fusion, evaluate, print the table"
    )
    parser.add_argument("--dataset", type=Path, default=None,
                        help="BEIR dataset dir (default $LIGHTRETRIEVER_DATA/scifact or ../shared/data/scifact)")
    parser.add_argument("--bundle", type=Path, help="bundle dir (default: build/reuse a zero-shot MiniLM bundle)")
    parser.add_argument("--index", help="index name (default <dataset>-demo)")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="where the JSON/Markdown/PNG go")
    parser.add_argument("--max-queries", type=int, help="evaluate only the first N test queries")
    parser.add_argument("--no-adapt", action="store_true", help="skip the label-free adaptation of the query side")
    parser.add_argument("--node-only", action="store_true", help="only start the node and show health and plugins")
    parser.add_argument("--home", help="node cache directory (default $LIGHTRETRIEVER_HOME or ~/.cache/lightretriever)")
    parser.add_argument("--plugin", action="append", default=[], metavar="ZIP", help="extra plugin zip to install")
    parser.add_argument("--heap", default="1g", help="JVM heap of the local node (default 1g)")
    add_connection_args(parser)  # --opensearch URL (or $LIGHTRETRIEVER_OPENSEARCH_URL): that cluster, no local node
    parser.set_defaults(func=run)


def _node(args: argparse.Namespace):
    url = args.opensearch or os.environ.get("LIGHTRETRIEVER_OPENSEARCH_URL")
    if not url:
        from lightretriever.node import LocalNode

        state = LocalNode(args.home, heap=args.heap, plugins=args.plugin).start()
        url = state["url"]
        how = "reused" if state["reused"] else f"started in {state['seconds_to_healthy']:.1f}s"
        print(f"local OpenSearch node {how}: {url}")
    args.opensearch = url
    client = client_from_args(args)
    info, health = client.info(), client.cluster.health()
    print(f"cluster {health['cluster_name']!r}: OpenSearch {info['version']['number']}, status {health['status']}")
    plugins = ", ".join(f"{p['component']} {p['version']}" for p in client.cat.plugins(format="json"))
    print(f"plugins: {plugins}")
    return client


def _connection_flags(args: argparse.Namespace) -> list[str]:
    """The connection options again, for the ingest command the demo runs."""
    flags = ["--opensearch", args.opensearch]
    for name in ("user", "password", "ca_certs"):
        if getattr(args, name):
            flags += [f"--{name.replace('_', '-')}", getattr(args, name)]
    return flags + (["--insecure"] if args.insecure else [])


def _bundle(args: argparse.Namespace):
    from lightretriever.bundle import Bundle
    from lightretriever.errors import BundleError
    from lightretriever.node import default_home

    if args.bundle:
        return Bundle.load(args.bundle)
    path = default_home() / "demo" / "minilm-zeroshot"
    try:
        bundle = Bundle.load(path)
        print(f"reusing bundle {path}")
        return bundle
    except BundleError:
        pass
    from lightretriever.bundle.build import build_bundle

    print(f"building the zero-shot MiniLM bundle into {path} ...")
    return build_bundle("minilm", path, overwrite=True)


def _own_copy(bundle):
    """The bundle the demo may write its learned fusion into: the demo's own bundle as it is, a bundle the
    user passed copied under the demo home first (a shared or released bundle is never modified)."""
    import shutil

    from lightretriever.bundle import Bundle
    from lightretriever.errors import BundleError
    from lightretriever.files import staged_dir
    from lightretriever.node import default_home

    demo_home = (default_home() / "demo").resolve()
    if bundle.path.resolve().is_relative_to(demo_home):
        return bundle
    path = demo_home / f"{bundle.path.name}-with-fusion"
    try:
        copy = Bundle.load(path)
        if copy.manifest["files"] == bundle.manifest["files"]:
            print(f"reusing {path} (a copy of {bundle.path} that holds the demo's learned fusion)")
            return copy
    except BundleError:
        pass
    print(f"copying {bundle.path} to {path}: the learned fusion is trained into the copy, not into your bundle")
    with staged_dir(path) as tmp:
        shutil.copytree(bundle.path, tmp, dirs_exist_ok=True)
    return Bundle.load(path)


def already_ingested(client, index: str, dataset: Path, bundle, state: Path) -> bool:
    """True when `index` already holds the whole corpus written by this bundle's document encoder but the
    state dir has no checkpoint (ingested by another run, another machine, or `lightretriever ingest` with
    another --state-dir): the demo then searches it as it is instead of encoding the corpus again."""
    from lightretriever.bundle.identity import check_index
    from lightretriever.jsonl import nonblank_lines

    if any(state.glob("*.checkpoint.json")) or not client.indices.exists(index=index):
        return False
    check_index(client, index, bundle)  # another document encoder's vectors: MappingError, never searched
    records = sum(1 for _ in nonblank_lines(dataset / "corpus.jsonl"))
    return int(client.count(index=index)["count"]) == records


ADAPTED_SYSTEMS = ("light-dense", "hybrid-linear", "hybrid-rrf")
DEMO_PSEUDO_QUERIES = 6000


def _adapted_bundle(bundle, index: str, client):
    """The bundle adapted to `index` (label-free), reused when it was made from this bundle for this index."""
    import hashlib

    from lightretriever.adapt.run import adapt_bundle
    from lightretriever.bundle import MANIFEST_FILE, Bundle
    from lightretriever.errors import BundleError
    from lightretriever.node import default_home

    path = default_home() / "demo" / f"{bundle.path.name}-adapted-{index}"
    source_sha = hashlib.sha256((bundle.path / MANIFEST_FILE).read_bytes()).hexdigest()
    try:
        adapted = Bundle.load(path)
        made = adapted.manifest.get("adaptation") or {}
        if made.get("source_bundle", {}).get("manifest_sha256") == source_sha and made["corpus"]["index"] == index:
            print(f"reusing adapted bundle {path}")
            return adapted
    except BundleError:
        pass
    print(f"adapting {bundle.path} to {index} without labels (pseudo-queries from its documents) ...")
    from lightretriever.adapt.run import AdaptOptions

    # a seeded sample of pseudo-queries keeps the teacher pass to a few minutes on 2 cores for SciFact's size
    return adapt_bundle(bundle.path, client, index, path, AdaptOptions(max_queries=DEMO_PSEUDO_QUERIES),
                        overwrite=True)


def run(args: argparse.Namespace) -> int:
    from lightretriever.cli import main as cli_main
    from lightretriever.errors import LightRetrieverError
    from lightretriever.evaluate.dataset import default_data_dir
    from lightretriever.node import default_home

    client = _node(args)
    if args.node_only:
        return 0
    dataset = (args.dataset or default_data_dir() / "scifact").resolve()
    if not (dataset / "corpus.jsonl").is_file():
        raise LightRetrieverError(
            f"{dataset}: no BEIR dataset there (corpus.jsonl, queries.jsonl, qrels/); pass --dataset DIR "
            "or set LIGHTRETRIEVER_DATA to a folder holding scifact/"
        )
    bundle = _bundle(args)
    index = args.index or f"{dataset.name}-demo"
    state = default_home() / "demo" / f"ingest-{index}"
    if already_ingested(client, index, dataset, bundle, state):
        print(f"{index} already holds the {dataset.name} corpus, written by this bundle's document encoder: "
              "searching it as it is (no encoding)")
    else:
        print(f"ingesting {dataset} into {index} (resumable; state in {state}) ...")
        rc = cli_main(["ingest", "--source", f"beir:{dataset}", "--bundle", str(bundle.path), "--index", index,
                       "--state-dir", str(state), *_connection_flags(args)])
        if rc:
            return rc

    from lightretriever.evaluate import evaluate_dataset

    has_train = (dataset / "qrels" / "train.tsv").is_file()
    if has_train and not (bundle.manifest.get("fusion") or {}).get("learned"):
        bundle = _own_copy(bundle)
    report = evaluate_dataset(dataset, bundle, index, client, split="test",
                              train_split="train" if has_train else None,
                              max_queries=args.max_queries, out_dir=args.out)
    if not args.no_adapt:
        adapted = _adapted_bundle(bundle, index, client)
        extra = evaluate_dataset(dataset, adapted, index, client, split="test", systems=ADAPTED_SYSTEMS,
                                 max_queries=args.max_queries)
        for result in extra.systems:
            result.name = f"adapted {result.name}"
            result.fusion = None  # the name says it (the table would print "(as rrf)" for a renamed hybrid)
        report.systems += extra.systems
        seconds = adapted.manifest["adaptation"]["seconds"]["total_s"]
        report.notes.append(f"adapted = {adapted.path}: the zero-shot bundle adapted to {index} without labels "
                            f"(lightretriever adapt: {seconds:.0f} s); no learned fusion (it needs labels)")
        if args.out:
            report.write(args.out)
    print()
    print(report.to_markdown())
    print(f"\nreports written to {args.out.resolve()}")
    return 0
