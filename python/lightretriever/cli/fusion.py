"""`lightretriever fusion train|show`: the learned (LightGBM LambdaRank) fusion model of a bundle."""

from __future__ import annotations

import argparse
import json

from lightretriever.client import add_connection_args, client_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("fusion", help="train or inspect the bundle's learned fusion model")
    actions = parser.add_subparsers(dest="action", required=True)

    train = actions.add_parser("train", help="train on a non-test split and save into the bundle")
    train.add_argument("--bundle", required=True, help="model bundle directory (updated in place)")
    train.add_argument("--index", required=True, help="index holding the dataset's corpus")
    train.add_argument("--dataset", required=True, help="BEIR dataset directory")
    train.add_argument("--split", default="train", help="qrels split to train on (default train; never test)")
    train.add_argument("--depth", type=int, default=100, help="hits per system (default 100)")
    train.add_argument("--rounds", type=int, default=None, help="boosting rounds (default: trainer default)")
    train.add_argument("--folds", type=int, default=5, help="query-grouped CV folds on the split (0: skip)")
    train.add_argument("--params", help="LightGBM parameter overrides as JSON")
    train.add_argument("--dry-run", action="store_true", help="train and report, do not write the bundle")
    add_connection_args(train)
    train.set_defaults(func=_train)

    show = actions.add_parser("show", help="print the bundle's fusion section")
    show.add_argument("--bundle", required=True)
    show.set_defaults(func=_show)


def _train(args: argparse.Namespace) -> int:
    from lightretriever.bundle import Bundle
    from lightretriever.fuse.learn.pipeline import train_fusion
    from lightretriever.fuse.learn.trainer import DEFAULT_ROUNDS

    summary = train_fusion(
        Bundle.load(args.bundle),
        client_from_args(args),
        args.index,
        args.dataset,
        args.split,
        depth=args.depth,
        params=json.loads(args.params) if args.params else None,
        rounds=args.rounds or DEFAULT_ROUNDS,
        folds=args.folds,
        save=not args.dry_run,
    )
    print(
        json.dumps(
            {
                "queries": summary.queries,
                "trained_on": summary.used,
                "skipped": len(summary.skipped),
                "no_relevant_candidate": summary.no_relevant_candidate,
                "candidates": summary.candidates,
                "cv": summary.cv,
                "rounds": summary.rounds,
                "saved": None if args.dry_run else summary.manifest_entry,
            },
            indent=2,
        )
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    from lightretriever.bundle import Bundle

    print(json.dumps(Bundle.load(args.bundle).manifest["fusion"], indent=2))
    return 0
