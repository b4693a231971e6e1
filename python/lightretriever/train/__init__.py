"""The LightRetriever training recipe (arXiv 2505.12260) for a backbone from `lightretriever.encode`.

Modules, one responsibility each:
  pairs      (query, positive) examples from a BEIR split or JSONL, bad lines to a dead-letter file
  mining     hard negatives: BM25 through OpenSearch (train split only) and optionally the current model
  light      the light dense query path: per-token blocks in one forward pass (block mask, repeated positions)
  model      the three heads on one shared backbone: full dense query, light dense query, sparse document
  loss       InfoNCE (in-batch + hard negatives) and the FLOPS regulariser with quadratic warm-up
  recipe     the default settings, as measured in docs/results.md (torch-free, shared with the CLI)
  trainer    seeded, resumable loop with gradient accumulation, tqdm loss, CUDA + bf16 when present
  export     trained weights -> HF directory -> bundle through `lightretriever.bundle` (unchanged format)
"""
