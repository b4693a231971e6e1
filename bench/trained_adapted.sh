#!/usr/bin/env bash
# Issue 12, "from the SciFact-trained bundle, adapted to Cranfield's and CISI's corpora without labels:
# light-dense >= 0.90 x its full-dense on each". One command for the whole measurement:
#   1. train MiniLM on SciFact train with the recipe of docs/results.md "Training (issue 6)" (resumes a killed
#      run from its checkpoint: same command, same --out);
#   2. ingest each corpus with the trained bundle into PREFIX-<corpus>-trained;
#   3. eval the trained bundle (six label-free systems) on each;
#   4. adapt it to each index with the defaults (and --postprocess-only), /usr/bin/time -v for the cost;
#   5. eval the adapted bundles (light-dense and the two label-free hybrids).
# No qrels of Cranfield/CISI are read before step 3/5's eval; adapt has no qrels argument.
#
#   bash bench/trained_adapted.sh [OUT_DIR]   # env: DATA (/work/shared/data), BUNDLES (/work/bundles), PREFIX (x12),
#                                             # RUN (training run dir), CORPORA ("cranfield cisi"), NICE (10),
#                                             # LIGHTRETRIEVER_OPENSEARCH_URL (the node holding the indices)
# About 18 min of training + ~10 min per corpus on the quiet 2-core machine; every step's start is stamped.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/runs/x12-trained-adapted}
DATA=${DATA:-${LIGHTRETRIEVER_DATA:-/work/shared/data}}
BUNDLES=${BUNDLES:-/work/bundles}
PREFIX=${PREFIX:-x12}
RUN=${RUN:-/tmp/$PREFIX/run-minilm-scifact}
CORPORA=${CORPORA:-cranfield cisi}
N="nice -n ${NICE:-10}"
T=$BUNDLES/$PREFIX-minilm-scifact-trained
mkdir -p "$OUT/eval"
stamp() { echo "=== $(date -u +%FT%TZ) $*"; }

if [[ ! -f $T/manifest.json ]]; then
  stamp "train -> $T"
  $N /usr/bin/time -v lightretriever train --backbone minilm --dataset "$DATA/scifact" --split train --out "$RUN" \
      --negatives 1 --mine bm25 --mine-depth 30 --batch-size 16 --epochs 3 --lr 4e-5 \
      --loss-weights full=1,light=2,sparse=1 --flops-doc 5e-5 --max-doc-len 160 --seed 42 \
      --checkpoint-every 10 --mine-index "$PREFIX-scifact-bm25" --no-progress --export-bundle "$T" \
      2> "$OUT/train.time.txt" || { stamp "training failed"; tail -30 "$OUT/train.time.txt"; exit 1; }
fi
adapt_eval() {  # corpus variant: adapt the trained bundle to the corpus's index, then eval the adapted bundle
  local C=$1 V=$2 I=$PREFIX-$1-trained A=$BUNDLES/$PREFIX-trained-adapted-$1 FLAGS=()
  [[ $V == pp ]] && { A=$A-pp; FLAGS=(--postprocess-only); }
  stamp "adapt $C ($V) -> $A"
  $N /usr/bin/time -v lightretriever adapt --bundle "$T" --index "$I" --out "$A" "${FLAGS[@]}" \
      > "$OUT/adapt-$C-$V.json" 2> "$OUT/adapt-$C-$V.time.txt"
  stamp "eval $C, $V"
  $N lightretriever eval --dataset "$DATA/$C" --split test --bundle "$A" --index "$I" --no-hnsw \
      --systems light-dense,hybrid-linear,hybrid-rrf --out "$OUT/eval" --stem "$C-trained-$V"
}
for C in $CORPORA; do  # the target (default adapt) on every corpus first, the post-processing-only variant after
  I=$PREFIX-$C-trained
  stamp "ingest $C -> $I"
  $N /usr/bin/time -v lightretriever ingest --bundle "$T" --source "beir:$DATA/$C" --index "$I" \
      --state-dir "/tmp/$PREFIX/ingest-$C" --no-progress --json > "$OUT/ingest-$C.json" 2> "$OUT/ingest-$C.time.txt"
  stamp "eval $C, trained bundle"
  $N lightretriever eval --dataset "$DATA/$C" --split test --bundle "$T" --index "$I" --no-hnsw \
      --systems bm25,full-dense,light-dense,light-sparse,hybrid-linear,hybrid-rrf --out "$OUT/eval" --stem "$C-trained"
  adapt_eval "$C" adapted
done
for C in $CORPORA; do adapt_eval "$C" pp; done
stamp "done"
