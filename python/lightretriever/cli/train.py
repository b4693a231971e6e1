"""`lightretriever train`: the LightRetriever recipe on a BEIR split or JSONL pairs, optionally exporting a bundle."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from lightretriever.client import add_connection_args, client_from_args


def register(subparsers) -> None:
    from lightretriever.train import recipe  # torch-free

    p = subparsers.add_parser("train", help="train the light query encoders and the sparse document head")
    data = p.add_argument_group("data")
    data.add_argument("--backbone", default="minilm", help="minilm | gemma3-270m | HF dir | .gguf | adapter dir")
    data.add_argument("--gguf-file", help="GGUF file name inside --backbone dir")
    data.add_argument("--dataset", type=Path, help="BEIR directory (corpus.jsonl, queries.jsonl, qrels/)")
    data.add_argument("--split", default="train", help="qrels split to train on (never 'test')")
    data.add_argument("--pairs", type=Path, help="JSONL of {query, positive, negatives?} instead of --dataset")
    data.add_argument("--limit", type=int, help="use only the first N examples (smoke runs)")
    neg = p.add_argument_group("hard negatives")
    neg.add_argument("--negatives", type=int, default=1, help="hard negatives per query per step")
    neg.add_argument("--mine", default="bm25", help="comma list of bm25, dense (current model), none")
    neg.add_argument("--mine-depth", type=int, default=30, help="candidates kept per query")
    neg.add_argument("--mine-index", help="OpenSearch index with title/text to mine from (default: one is "
                     "created from the BEIR corpus)")
    model = p.add_argument_group("model")
    tune = model.add_mutually_exclusive_group()
    tune.add_argument("--lora", dest="lora", action="store_true", default=None,
                      help="LoRA r=16 alpha=32 on all linear layers (default for decoders)")
    tune.add_argument("--full", dest="lora", action="store_false", help="full fine-tuning (default for encoders)")
    model.add_argument("--query-prompt", default="")
    model.add_argument("--document-prompt", default="")
    model.add_argument("--max-query-len", type=int, help="default: the backbone's (64)")
    model.add_argument("--max-doc-len", type=int, help="document tokens during training (default: the "
                       "backbone's; the exported bundle keeps the backbone's for ingest)")
    loop = p.add_argument_group("loop")
    loop.add_argument("--out", type=Path, required=True, help="run directory: checkpoint, log, trained model")
    # Defaults: the recipe measured in docs/results.md (train/recipe.py), the same as TrainConfig's.
    loop.add_argument("--epochs", type=float, default=recipe.EPOCHS, help="passes over the pairs (default %(default)s)")
    loop.add_argument("--max-steps", type=int, help="optimizer steps (overrides --epochs)")
    loop.add_argument("--batch-size", type=int, default=16, help="queries per micro-batch")
    loop.add_argument("--grad-accum", type=int, default=1, help="micro-batches per optimizer step")
    loop.add_argument("--lr", type=float, default=recipe.LEARNING_RATE, help="peak learning rate (default %(default)s)")
    loop.add_argument("--flops-doc", type=float, default=recipe.FLOPS_DOC,
                      help="FLOPS weight on document sparse vectors (1e-4 cost 2.3 points of CISI light-sparse)")
    loop.add_argument("--loss-weights", default=",".join(f"{k}={v:g}" for k, v in recipe.LOSS_WEIGHTS.items()),
                      help="weights of the three InfoNCE terms (the light encoder has the harder task)")
    loop.add_argument("--seed", type=int, default=42)
    loop.add_argument("--checkpoint-every", type=int, default=20, help="optimizer steps between checkpoints")
    loop.add_argument("--device", help="cpu | cuda (default: cuda when available)")
    loop.add_argument("--no-bf16", action="store_true", help="float32 even on a GPU")
    loop.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint in --out")
    loop.add_argument("--no-progress", action="store_true")
    exp = p.add_argument_group("export")
    exp.add_argument("--export-bundle", type=Path, help="write a bundle built from the trained model here")
    exp.add_argument("--prune-top-k", type=int, default=256, help="sparse terms kept per document (0 = all)")
    add_connection_args(p)
    p.set_defaults(func=_train)


def _weights(text: str) -> dict[str, float]:
    from lightretriever.errors import LightRetrieverError

    out = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name.strip() not in ("full", "light", "sparse"):
            raise LightRetrieverError(f"--loss-weights: unknown head {name!r} (full, light, sparse)")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise LightRetrieverError(f"--loss-weights: {part!r} is not name=number") from None
    return out


def _train(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from lightretriever.train.pipeline import TrainJob, run_training
    from lightretriever.train.trainer import TrainConfig

    cfg = TrainConfig(
        out_dir=args.out, epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size,
        grad_accum=args.grad_accum, negatives=args.negatives, lr=args.lr, weights=_weights(args.loss_weights),
        flops_doc=args.flops_doc, seed=args.seed, checkpoint_every=args.checkpoint_every, device=args.device,
        bf16=False if args.no_bf16 else None, progress=not args.no_progress,
    )
    mine = [m.strip() for m in args.mine.split(",") if m.strip()]
    client = None
    if "bm25" in mine:
        client = client_from_args(args)
    job = TrainJob(
        backbone=args.backbone, config=cfg, dataset=args.dataset, split=args.split, pairs=args.pairs, mine=mine,
        mine_depth=args.mine_depth, mine_index=args.mine_index, client=client, lora=args.lora,
        gguf_file=args.gguf_file, query_prompt=args.query_prompt, document_prompt=args.document_prompt,
        max_query_len=args.max_query_len, max_doc_len=args.max_doc_len, resume=not args.no_resume,
        export_bundle=args.export_bundle, prune_top_k=args.prune_top_k or None, limit=args.limit,
    )
    print(json.dumps(run_training(job), indent=2))
    return 0
