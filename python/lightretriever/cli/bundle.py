"""`lightretriever bundle build|info`: build a zero-shot bundle from a backbone; show a bundle's manifest."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    parser = subparsers.add_parser("bundle", help="build or inspect a model bundle")
    sub = parser.add_subparsers(dest="bundle_command", required=True)

    build = sub.add_parser("build", help="encode the vocabulary with a backbone and write a zero-shot bundle")
    build.add_argument("--backbone", required=True,
                       help="minilm | gemma3-270m | a local HF model dir | a .gguf file | a peft adapter dir")
    build.add_argument("--out", required=True, help="bundle directory to write")
    build.add_argument("--adapter", help="peft LoRA adapter dir applied over --backbone (merged)")
    build.add_argument("--gguf-file", help="GGUF file name inside --backbone dir")
    build.add_argument("--query-prompt", default="", help="prompt before each query token (table) and query")
    build.add_argument("--document-prompt", default="", help="prompt before each document")
    build.add_argument("--prune-top-k", type=int, default=256, help="keep the top N sparse weights per document "
                       "(0 = no limit)")
    build.add_argument("--prune-min-weight", type=float, default=0.0, help="drop sparse weights below this")
    build.add_argument("--max-doc-length", type=int, help="document tokens (default: the backbone's)")
    build.add_argument("--max-query-length", type=int, help="query tokens (default 64)")
    build.add_argument("--device", help="cpu | cuda | cuda:N (default: cuda when available)")
    build.add_argument("--batch-size", type=int, help="ids per table batch")
    build.add_argument("--overwrite", action="store_true", help="replace an existing bundle at --out")
    build.set_defaults(func=_build)

    info = sub.add_parser("info", help="verify a bundle and print its manifest summary")
    info.add_argument("path", help="bundle directory")
    info.add_argument("--json", action="store_true", help="print the whole manifest as JSON")
    info.set_defaults(func=_info)


def _build(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from lightretriever.bundle.build import build_bundle

    max_length = None
    if args.max_doc_length or args.max_query_length:
        from lightretriever.encode.backbone import DEFAULT_MAX_LENGTH

        max_length = {"document": args.max_doc_length or DEFAULT_MAX_LENGTH["encoder"]["document"],
                      "query": args.max_query_length or DEFAULT_MAX_LENGTH["encoder"]["query"]}
    bundle = build_bundle(
        args.backbone, args.out, query_prompt=args.query_prompt, document_prompt=args.document_prompt,
        prune_top_k=args.prune_top_k or None, prune_min_weight=args.prune_min_weight, gguf_file=args.gguf_file,
        adapter=args.adapter, device=args.device, batch_size=args.batch_size, max_length=max_length,
        overwrite=args.overwrite,
    )
    print(f"bundle written: {bundle.path} ({bundle.vocab_size} ids x {bundle.dense_dim} dims)")
    return 0


def _info(args: argparse.Namespace) -> int:
    from lightretriever.bundle import Bundle

    bundle = Bundle.load(args.path)
    m = bundle.manifest
    if args.json:
        print(json.dumps(m, indent=2))
        return 0
    bb = m["backbone"]
    learned = m["fusion"].get("learned")
    rows = [
        ("path", str(bundle.path)),
        ("backbone", f"{bb['name']} ({bb['kind']}, revision {bb['revision']})"),
        ("adapter", bb.get("adapter") or "-"),
        ("gguf file", bb.get("gguf_file") or "-"),
        ("pooling", m["pooling"]),
        ("dense dim", str(m["dense_dim"])),
        ("vocabulary", str(m["vocab_size"])),
        ("lowercase", str(m["lowercase"])),
        ("max length", f"document {m['max_length']['document']}, query {m['max_length']['query']}"),
        ("prompts", f"query {m['prompts']['query']!r}, document {m['prompts']['document']!r}"),
        ("sparse", (f"head {m['sparse']['head']}, top-k {m['sparse']['prune_top_k']}, "
                   f"min weight {m['sparse']['prune_min_weight']}")),
        ("fusion", f"default {m['fusion']['default']}, learned {'yes' if learned else 'no'}"),
        ("files", ", ".join(sorted(m["files"]))),
        ("verified", "checksums, dims, tokenizer vocabulary"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0
