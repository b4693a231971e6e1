"""`adapt_bundle`: post-process the table on the index's corpus statistics, then (optionally) distil it from
the bundle's own full query encoder on pseudo-queries; write a new bundle. Never reads judgments."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lightretriever.adapt.corpus import read_index_cached
from lightretriever.adapt.postprocess import (
    CorpusStats,
    PostProcessSpec,
    fit_transform,
    record,
    sparse_weights,
)
from lightretriever.bundle import MANIFEST_FILE, TABLE_FILE, Bundle
from lightretriever.bundle.bundle import write_table
from lightretriever.bundle.identity import DOCUMENT_ENCODER_KEY, check_index, document_encoder_id
from lightretriever.errors import BundleError
from lightretriever.files import staged_dir
from lightretriever.fuse.registry import DEFAULT_NAME as DEFAULT_FUSION

log = logging.getLogger(__name__)
ADAPTATION_KEY = "adaptation"


@dataclass
class AdaptOptions:
    postprocess: PostProcessSpec = field(default_factory=PostProcessSpec)
    train: bool = True  # False: post-processing only (no torch)
    kinds: tuple[str, ...] = ("title", "sentence")
    per_doc: int = 2
    queries_log: str | None = None
    max_queries: int | None = None  # cap on pseudo-queries (a seeded sample), for quick runs
    loop: object = None  # LoopConfig (imported lazily: torch)
    device: str | None = None
    teacher_batch_size: int = 64


def adapt_bundle(bundle_path, client, index: str, out, options: AdaptOptions | None = None, *,
                 state_dir: Path | None = None, overwrite: bool = False, progress: bool = True) -> Bundle:
    options = options or AdaptOptions()
    started = time.perf_counter()
    source = Bundle.load(bundle_path)
    check_index(client, index, source)  # the stored vectors must be this bundle's document encoder's
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise BundleError(f"{out}: already exists and is not empty (use --overwrite)")
    state_dir = Path(state_dir or out.parent / f".{out.name}.adapt-state")
    corpus = read_index_cached(client, index, state_dir / f"corpus-{index}.npz", with_dense=options.train,
                               progress=progress)
    exclude = set(source.manifest["query"]["exclude_ids"]) | {source.manifest["query"]["unk_id"]} - {None}
    previous = source.manifest.get(ADAPTATION_KEY) or {}
    timings = {"read_index_s": time.perf_counter() - started}
    if previous.get("postprocess"):
        log.info("%s is already post-processed: keeping its table as the starting point", source.path)
        table, post = source.table.astype(np.float32), {"inherited": previous["postprocess"]}
        weights = source.sparse_weights
    else:
        stats = CorpusStats.from_texts(source.tokenizer, corpus.full_texts(), source.vocab_size)
        transform = fit_transform(source.table, exclude, options.postprocess, stats)
        table = transform.fold(source.table).astype(np.float32)
        post = record(options.postprocess, stats, {"index": index, "fields": ["title", "text"]})
        weights = sparse_weights(options.postprocess, stats)
    timings["postprocess_s"] = time.perf_counter() - started - timings["read_index_s"]
    distillation = None
    if options.train:
        table, distillation = _distil(source, corpus, table, exclude, options, state_dir, progress)
        timings["distil_s"] = time.perf_counter() - started - timings["read_index_s"] - timings["postprocess_s"]
    timings["total_s"] = time.perf_counter() - started
    adaptation = {
        "labels_used": False,  # corpus text, stored vectors and an optional query log only
        "source_bundle": {"path": str(source.path.resolve()),
                          "manifest_sha256": hashlib.sha256((source.path / MANIFEST_FILE).read_bytes()).hexdigest()},
        "corpus": {"index": index, "documents": len(corpus)},
        "postprocess": post,
        "distillation": distillation,
        "seconds": {k: round(v, 1) for k, v in timings.items()},
        "previous": previous or None,
    }
    return _write(source, out, table, weights, adaptation, document_encoder_id(source))


def _distil(source, corpus, table, exclude, options: AdaptOptions, state_dir: Path, progress: bool):
    from lightretriever.adapt import pseudo
    from lightretriever.adapt.loop import LoopConfig, train_table
    from lightretriever.adapt.teacher import teacher_vectors

    loop = options.loop or LoopConfig()
    queries = pseudo.from_corpus(corpus, options.kinds, options.per_doc, seed=loop.seed) if options.kinds else []
    if options.queries_log:
        queries += pseudo.from_log(options.queries_log, state_dir / "queries.deadletter.jsonl")
    if options.max_queries and len(queries) > options.max_queries:
        keep = np.random.default_rng(loop.seed).choice(len(queries), options.max_queries, replace=False)
        queries = [queries[i] for i in sorted(keep)]
    max_len = source.manifest["max_length"]["query"]
    ids = [[i for i in enc.ids[:max_len] if i not in exclude]
           for enc in source.tokenizer.encode_batch([q.text for q in queries], add_special_tokens=False)]
    kept = [n for n, row in enumerate(ids) if row]
    queries, ids = [queries[n] for n in kept], [ids[n] for n in kept]
    if not queries:
        raise BundleError("adapt: no pseudo-queries with known tokens (empty corpus text and no query log?)")
    texts = [q.text for q in queries]
    key = hashlib.sha256(json.dumps([source.manifest["files"], texts]).encode()).hexdigest()[:16]
    teacher = teacher_vectors(source, texts, state_dir / f"teacher-{key}.npy", batch_size=options.teacher_batch_size,
                              device=options.device, progress=progress)
    sources = np.asarray([q.source for q in queries], dtype=np.int64)
    trained, history = train_table(table, ids, teacher, corpus.dense, sources, loop, state_dir / key, progress)
    counts: dict[str, int] = {}
    for q in queries:
        counts[q.kind] = counts.get(q.kind, 0) + 1
    return trained, {
        "queries": counts, "per_doc": options.per_doc, "query_log": options.queries_log,
        "teacher": "the source bundle's backbone as full query encoder (its query prompt)",
        "loop": asdict(loop), "history": history,
    }


def _write(source: Bundle, out: Path, table: np.ndarray, weights: np.ndarray | None, adaptation: dict,
           encoder_id: str) -> Bundle:
    """A copy of the source bundle (backbone/ included) with the new table, sparse weights and manifest,
    swapped in whole."""
    with staged_dir(out) as tmp:
        shutil.copytree(source.path, tmp, dirs_exist_ok=True)
        write_table(tmp / TABLE_FILE, table, weights)
        manifest = json.loads((tmp / MANIFEST_FILE).read_text())
        manifest["query"]["sparse_weights"] = None if weights is None else "idf"
        # rrf: measured better without labels. A learned model of the source was fitted to the source table's
        # dense scores, which the new table changes: it stays callable by name, but is not the default until it
        # is retrained on this bundle (`lightretriever fusion train`, which makes it the default again).
        manifest["fusion"]["default"] = DEFAULT_FUSION
        manifest[ADAPTATION_KEY] = adaptation
        manifest[DOCUMENT_ENCODER_KEY] = {"id": encoder_id}
        bundle = Bundle(tmp, manifest, source.tokenizer, table.astype(np.float16), weights)
        bundle.save_manifest()
    return Bundle.load(out)
