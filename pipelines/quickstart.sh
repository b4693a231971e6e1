#!/usr/bin/env bash
# The main job in one command: set up the environment, then run `lightretriever demo` (extra arguments go to it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$(bash "$ROOT/pipelines/bootstrap.sh")"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec "$VENV/bin/lightretriever" demo "$@"
