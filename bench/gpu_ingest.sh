#!/usr/bin/env bash
# GPU ingest measurement for a session that has GPUs: MiniLM (target >= 3000 docs/s) and Gemma 3 270M
# (>= 1000 docs/s), SciFact documents at their own lengths, encoder + bulk writer together.
# One process per visible GPU, each with --shard i/N into one index; docs/s = all documents / slowest process.
#
#   bash bench/gpu_ingest.sh [OUT_DIR]        # env: COPIES (8), BUNDLES (/work/bundles), DATA (SciFact dir),
#                                             #      LIGHTRETRIEVER_OPENSEARCH_URL (else a node is started)
# Bundles missing from $BUNDLES are built first (on GPU 0; Gemma's 262k-row table takes ~40 s on an H200).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-${OUT:-docs/runs/gpu-ingest}}
COPIES=${COPIES:-8}
BUNDLES=${BUNDLES:-/work/bundles}
DATA=${DATA:-${LIGHTRETRIEVER_DATA:-../shared/data}/scifact}
mkdir -p "$OUT"
NGPU=$(python -c 'import torch; print(torch.cuda.device_count())')
if [[ "$NGPU" -lt 1 ]]; then echo "no CUDA device: nothing to measure" >&2; exit 2; fi
STARTED_NODE=""
if [[ -z "${LIGHTRETRIEVER_OPENSEARCH_URL:-}" ]]; then
  HOME_DIR=${NODE_HOME:-/tmp/nodes/gpu-ingest}
  LIGHTRETRIEVER_OPENSEARCH_URL=$(lightretriever node start --home "$HOME_DIR" --heap 4g | tail -1)
  export LIGHTRETRIEVER_OPENSEARCH_URL
  STARTED_NODE=$HOME_DIR
fi
trap '[[ -n "$STARTED_NODE" ]] && lightretriever node stop --home "$STARTED_NODE"' EXIT

measure() {  # backbone target
  local name=$1 target=$2 bundle=$BUNDLES/$1
  [[ -f "$bundle/manifest.json" ]] || lightretriever bundle build --backbone "$name" --out "$bundle" --device cuda
  local index="bench-gpu-ingest-${name}-$(date +%s)"
  local pids=()
  for ((i = 0; i < NGPU; i++)); do
    CUDA_VISIBLE_DEVICES=$i python bench/gpu_ingest.py --bundle "$bundle" --dataset "$DATA" --copies "$COPIES" \
      --device cuda --shard "$i/$NGPU" --index "$index" --keep --target "$target" \
      --json "$OUT/$name-shard$i.json" > "$OUT/$name-shard$i.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  python - "$OUT" "$name" "$NGPU" "$target" <<'PY'
import json, sys
from pathlib import Path
out, name, n, target = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
runs = [json.loads((out / f"{name}-shard{i}.json").read_text()) for i in range(n)]
docs = sum(r["end_to_end"]["docs"] for r in runs)
seconds = max(r["end_to_end"]["seconds"] for r in runs)
enc = sum(r.get("encoder_alone", {}).get("docs_per_s", 0) for r in runs)
total = {"backbone": name, "gpus": n, "gpu": runs[0]["gpu"], "dtype": runs[0]["dtype"], "docs": docs,
         "end_to_end_docs_per_s": round(docs / seconds, 1), "encoder_alone_docs_per_s": round(enc, 1),
         "target_docs_per_s": target, "target_met": docs / seconds >= target}
(out / f"{name}-total.json").write_text(json.dumps(total, indent=1) + "\n")
print(json.dumps(total))
PY
  curl -s -XDELETE "$LIGHTRETRIEVER_OPENSEARCH_URL/$index" > /dev/null || true
}

measure minilm 3000
measure gemma3-270m 1000
