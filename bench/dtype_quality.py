"""Quality of one index against another encoding of the same corpus: the issue-14 rule for a faster ingest path.

Takes pairs of `lightretriever eval --out` JSON files, each pair the same command run on the reference index
(float32) and on the candidate (bfloat16), and prints every system's nDCG@10 and R@100 side by side, the
difference, and whether every system stays within `--max-loss` nDCG@10 (issue 14: 0.005):

    python bench/dtype_quality.py --pair eval/cranfield-fp32-minilm.json eval/cranfield-bf16-minilm.json \\
        --pair ... --out docs/runs/g14-bf16-quality          # writes .md and .json

Exit status 0 when the candidate passes, 1 when some system loses more.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

METRICS = ("nDCG@10", "R@100")


def compare(base: dict, candidate: dict) -> list[dict]:
    """One row per system present in both runs; refuses runs that differ in dataset, split or bundle."""
    for key in ("dataset", "split", "bundle", "qrels_file"):
        if base.get(key) != candidate.get(key):
            raise SystemExit(f"not the same evaluation: {key} {base.get(key)!r} vs {candidate.get(key)!r}")
    theirs = {s["name"]: s for s in candidate["systems"]}
    rows = []
    for system in base["systems"]:
        other = theirs.get(system["name"])
        if other is None:
            continue
        if system["queries"] != other["queries"]:
            raise SystemExit(f"{base['dataset']} {system['name']}: {system['queries']} vs {other['queries']} queries")
        row = {"dataset": base["dataset"], "bundle": Path(base["bundle"]).name, "system": system["name"],
               "queries": system["queries"], "base_index": base["index"], "candidate_index": candidate["index"]}
        for metric in METRICS:
            a, b = system["metrics"][metric], other["metrics"][metric]
            row[metric] = {"base": a, "candidate": b, "diff": b - a}
        rows.append(row)
    return rows


def markdown(rows: list[dict], max_loss: float) -> str:
    lines = [("| collection | bundle | system | nDCG@10 float32 | nDCG@10 bf16 | Δ nDCG@10 | R@100 float32 | "
              "R@100 bf16 | Δ R@100 | within |"),
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        n, rec = r["nDCG@10"], r["R@100"]
        ok = "yes" if n["diff"] >= -max_loss else "**no**"
        lines.append(f"| {r['dataset']} | {r['bundle']} | {r['system']} | {n['base']:.4f} | {n['candidate']:.4f} | "
                     f"{n['diff']:+.4f} | {rec['base']:.4f} | {rec['candidate']:.4f} | {rec['diff']:+.4f} | {ok} |")
    worst = min(rows, key=lambda r: r["nDCG@10"]["diff"])
    verdict = "PASS" if worst["nDCG@10"]["diff"] >= -max_loss else "FAIL"
    lines.append("")
    lines.append(f"{verdict}: largest nDCG@10 change {worst['nDCG@10']['diff']:+.4f} ({worst['dataset']}, "
                 f"{worst['bundle']}, {worst['system']}); the rule allows {max_loss}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pair", nargs=2, action="append", required=True, metavar=("BASE_JSON", "CANDIDATE_JSON"))
    p.add_argument("--max-loss", type=float, default=0.005, help="largest nDCG@10 loss allowed (default 0.005)")
    p.add_argument("--out", help="write STEM.md and STEM.json")
    args = p.parse_args(argv)
    rows = []
    for base, candidate in args.pair:
        rows += compare(json.loads(Path(base).read_text()), json.loads(Path(candidate).read_text()))
    if not rows:
        raise SystemExit("no system appears in both files of any pair")
    text = markdown(rows, args.max_loss)
    print(text, end="")
    passed = all(r["nDCG@10"]["diff"] >= -args.max_loss for r in rows)
    if args.out:
        Path(args.out + ".md").write_text(text)
        Path(args.out + ".json").write_text(json.dumps({"max_loss": args.max_loss, "passed": passed, "rows": rows},
                                                       indent=1) + "\n")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
