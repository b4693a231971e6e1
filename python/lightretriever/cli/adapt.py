"""`lightretriever adapt`: label-free adaptation of a bundle's query side to an ingested index.

It has no qrels or dataset argument: it reads the index's documents (and an optional query log) only.
"""

from __future__ import annotations

import argparse

from lightretriever.client import add_connection_args, client_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    from lightretriever.adapt.postprocess import CENTERS, SPARSE_WEIGHTS, WEIGHTS

    parser = subparsers.add_parser(
        "adapt", help="adapt a bundle's token table to an ingested corpus, without labels (new bundle)"
    )
    parser.add_argument("--bundle", required=True, help="source bundle (its document encoder wrote the index)")
    parser.add_argument("--index", required=True, help="the ingested corpus to adapt to")
    parser.add_argument("--out", required=True, help="directory of the adapted bundle")
    parser.add_argument("--queries", help="optional JSONL query log ({\"text\": ...} per line), no judgments")
    parser.add_argument("--postprocess-only", action="store_true",
                        help="fold centring/PCA/weights into the table and stop (no teacher, no torch)")
    parser.add_argument("--center", choices=CENTERS, default="table")
    parser.add_argument("--remove-directions", type=int, default=2, help="top principal directions removed")
    parser.add_argument("--weights", choices=WEIGHTS, default="idf", help="per-token weights folded in")
    parser.add_argument("--sparse-weights", choices=SPARSE_WEIGHTS, default="idf",
                        help="per-token weights on the sparse query's counts (default idf; none: plain counts)")
    parser.add_argument("--kinds", default="title,sentence", help="pseudo-query kinds: title,sentence,span "
                        "(empty: the query log only)")
    parser.add_argument("--per-doc", type=int, default=2, help="sentences/spans per document")
    parser.add_argument("--max-queries", type=int, help="cap on pseudo-queries (seeded sample)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--candidates", type=int, default=64, help="teacher's top documents per query")
    parser.add_argument("--loss-vector", type=float, default=1.0)
    parser.add_argument("--loss-kl", type=float, default=1.0)
    parser.add_argument("--loss-contrastive", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--state-dir", help="checkpoints and teacher cache (default: beside --out); "
                        "rerunning the same command resumes")
    parser.add_argument("--device", help="teacher device (default: CUDA when available)")
    parser.add_argument("--overwrite", action="store_true")
    add_connection_args(parser)
    parser.set_defaults(func=_adapt)


def _adapt(args: argparse.Namespace) -> int:
    import json

    from lightretriever.adapt.postprocess import PostProcessSpec
    from lightretriever.adapt.run import ADAPTATION_KEY, AdaptOptions, adapt_bundle

    loop = None
    if not args.postprocess_only:
        from lightretriever.adapt.loop import LoopConfig
        from lightretriever.adapt.student import LossWeights

        loop = LoopConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, candidates=args.candidates,
                          seed=args.seed, loss=LossWeights(args.loss_vector, args.loss_kl, args.loss_contrastive))
    options = AdaptOptions(
        postprocess=PostProcessSpec(args.center, args.remove_directions, args.weights,
                                    sparse_weights=args.sparse_weights),
        train=not args.postprocess_only,
        kinds=tuple(k for k in args.kinds.split(",") if k),
        per_doc=args.per_doc,
        queries_log=args.queries,
        max_queries=args.max_queries,
        loop=loop,
        device=args.device,
    )
    bundle = adapt_bundle(args.bundle, client_from_args(args), args.index, args.out, options,
                          state_dir=args.state_dir, overwrite=args.overwrite)
    summary = {k: v for k, v in bundle.manifest[ADAPTATION_KEY].items() if k != "previous"}
    print(json.dumps(summary, indent=2))
    print(f"adapted bundle: {bundle.path}")
    return 0
