"""Table post-processing with statistics from a partial table's ENCODED rows only (issue 14, g14b).

The Gemma subset bundle (bench/gemma_subset.py) has rows only for the token ids its test queries use; every other
row is zero. `lightretriever adapt --postprocess-only` takes the mean row and the principal directions over all
usable rows, so ~262k zero rows dominate them. This variant passes every unencoded id as excluded, so μ and P come
from the encoded rows alone; IDF weights are adapt's (the index's corpus). It writes a bundle like adapt's.

Which ids are encoded is a property of the bundle (`table-ids.json`, written when the table was built), not of
labels; but those ids ARE the test queries' tokens, so this variant is "measured, not used to choose".

    python bench/gemma_encoded_rows_pp.py --bundle /work/bundles/i14-gemma3-270m-scifact50 \
        --index i14-gemma-scifact50 --table-ids /tmp/i14/gemma-subset/table-ids.json \
        --out /work/bundles/g14b-gemma-pp-encoded --opensearch URL
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from lightretriever.adapt.corpus import read_index
from lightretriever.adapt.postprocess import (
    CorpusStats,
    PostProcessSpec,
    fit_transform,
    record,
    sparse_weights,
)
from lightretriever.adapt.run import _write  # the adapted-bundle writer adapt itself uses
from lightretriever.bundle import Bundle
from lightretriever.bundle.identity import check_index, document_encoder_id
from lightretriever.client import get_client


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--table-ids", required=True, help='JSON {"ids": [...]}: the rows the table builder encoded')
    ap.add_argument("--out", required=True)
    ap.add_argument("--opensearch", default=None)
    args = ap.parse_args()

    started = time.perf_counter()
    source = Bundle.load(args.bundle)
    client = get_client(args.opensearch)
    check_index(client, args.index, source)
    corpus = read_index(client, args.index, with_dense=False, progress=False)
    encoded = np.asarray(json.loads(Path(args.table_ids).read_text())["ids"], dtype=np.int64)
    vocab = source.vocab_size
    query = source.manifest["query"]
    base_exclude = set(query["exclude_ids"]) | ({query["unk_id"]} - {None})
    keep = np.zeros(vocab, dtype=bool)
    keep[encoded] = True
    keep[list(base_exclude)] = False
    nonzero = np.flatnonzero(np.abs(source.table).max(axis=1) > 0)
    print(f"table rows {vocab}, nonzero {len(nonzero)}, listed as encoded {len(encoded)}, "
          f"nonzero outside the list {len(np.setdiff1d(nonzero, encoded))}, usable for statistics {keep.sum()}")

    spec = PostProcessSpec()  # adapt's defaults: center=table, remove_directions=2, weights=idf, sparse idf
    stats = CorpusStats.from_texts(source.tokenizer, corpus.full_texts(), vocab)
    whole = fit_transform(source.table, base_exclude, spec, stats)  # what adapt does
    mine = fit_transform(source.table, np.flatnonzero(~keep), spec, stats)
    print(f"|mu| whole table {np.linalg.norm(whole.mu):.4f}, encoded rows {np.linalg.norm(mine.mu):.4f}; "
          f"mean |encoded row| {np.linalg.norm(source.table[encoded].astype(np.float32), axis=1).mean():.4f}")
    overlap = np.abs(whole.directions @ mine.directions.T)
    print(f"|cos| between the two runs' principal directions (rows: whole, cols: encoded):\n{overlap.round(3)}")
    print(f"|cos| of the whole-table directions with the encoded rows' mean: "
          f"{np.abs(whole.directions @ (mine.mu / np.linalg.norm(mine.mu))).round(3)}")

    table = mine.fold(source.table).astype(np.float32)
    adaptation = {
        "labels_used": False,
        "source_bundle": {"path": str(source.path.resolve())},
        "corpus": {"index": args.index, "documents": len(corpus)},
        "postprocess": {**record(spec, stats, {"index": args.index, "fields": ["title", "text"]}),
                        "statistics_rows": f"encoded rows only ({int(keep.sum())}, from {args.table_ids})",
                        "made_by": "bench/gemma_encoded_rows_pp.py (measured, not used to choose)"},
        "distillation": None,
        "seconds": {"total_s": round(time.perf_counter() - started, 1)},
        "previous": None,
    }
    out = _write(source, Path(args.out), table, sparse_weights(spec, stats), adaptation,
                 document_encoder_id(source))
    print(f"wrote {out.path} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
