"""How far adaptation moved a bundle's token table: rows changed, and for a chosen id set (e.g. the rows a partial
table encoded) the relative change and cosine before/after. Diagnostic only (issue 14, g14b).

    python bench/table_delta.py --before /work/bundles/g14b-gemma-pp --after /work/bundles/g14b-gemma-adapted \
        --ids /tmp/i14/gemma-subset/table-ids.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lightretriever.bundle import Bundle


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--ids", required=True, help='JSON {"ids": [...]}: the rows to report on')
    args = ap.parse_args()
    ids = np.asarray(json.loads(Path(args.ids).read_text())["ids"], dtype=np.int64)
    a = Bundle.load(args.before).table.astype(np.float32)
    b = Bundle.load(args.after).table.astype(np.float32)
    delta = np.linalg.norm(b - a, axis=1)
    norm_a, norm_b = np.linalg.norm(a[ids], axis=1), np.linalg.norm(b[ids], axis=1)
    cos = (a[ids] * b[ids]).sum(1) / np.maximum(norm_a * norm_b, 1e-12)
    changed = np.flatnonzero(delta > 0)
    print(f"{args.before} -> {args.after}")
    print(f"rows changed {len(changed)} of {len(a)}; of the {len(ids)} listed ids: {int(np.isin(changed, ids).sum())}")
    print(f"listed rows: |row| before median {np.median(norm_a):.3g}; median |delta|/|row| "
          f"{np.median(delta[ids] / np.maximum(norm_a, 1e-12)):.3g}; cos(before, after) median {np.median(cos):.4f}, "
          f"min {cos.min():.4f}")


if __name__ == "__main__":
    main()
