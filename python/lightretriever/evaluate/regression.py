"""Expected scores as regression files (Pyserini 2CR style): one YAML per collection and bundle under
bench/regressions/, holding the commands that produce the run and the expected nDCG@10 and R@100 of every
system. `bench/regress.py` checks the full set against a node's indices; tests/evaluate/test_eval_node.py
checks the CI slice. Both report a difference beyond the file's tolerance, up or down: a drop is a
regression, a rise means the expected figures are stale (rewrite them with --update, with the reason
in the commit).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from lightretriever.files import atomic_write

METRICS = ("nDCG@10", "R@100")
DIGITS = 4
DEFAULT_TOLERANCE = 0.005  # half of the 0.01 nDCG@10 drop a regression check must catch


def load(path: str | Path) -> dict[str, Any]:
    spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(spec, dict) or not isinstance(spec.get("expected"), dict):
        raise TypeError(f"{path}: a regression file needs an `expected` mapping of system -> metrics")
    return spec


def figures(report) -> dict[str, dict[str, float]]:
    """An EvalReport's figures as the `expected` section holds them (rounded to 4 digits)."""
    return {r.name: {m: round(float(r.metrics[m]), DIGITS) for m in METRICS} for r in report.systems}


def compare(spec: dict[str, Any], actual: dict[str, dict[str, float]]) -> list[str]:
    """One line per system and metric that differs from the expected figure by more than the tolerance,
    per system that was expected but not measured, and per system measured but not expected."""
    tolerance = float(spec.get("tolerance", DEFAULT_TOLERANCE))
    expected = spec["expected"]
    problems = [f"{name}: expected but not measured" for name in expected if name not in actual]
    problems += [f"{name}: measured but has no expected figures" for name in actual if name not in expected]
    for name, want in expected.items():
        for metric in METRICS:
            if name not in actual or metric not in want:
                continue
            got = actual[name][metric]
            if abs(got - want[metric]) > tolerance:
                change = "dropped" if got < want[metric] else "rose"
                problems.append(
                    f"{name} {metric} {change}: {got:.4f} vs expected {want[metric]:.4f} (tolerance {tolerance})"
                )
    return problems


def update(path: str | Path, actual: dict[str, dict[str, float]], machine: str, **extra: str) -> None:
    """Rewrite the file's `expected` figures and its `measured` record (date, machine, commit, `extra`);
    a `pending` note (figures still to be measured) goes."""
    path = Path(path)
    spec = load(path)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=path.parent, capture_output=True, text=True, check=False
    )
    spec.pop("pending", None)
    spec["expected"] = actual
    spec["measured"] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine,
        "commit": commit.stdout.strip() or None,
        **extra,
    }
    atomic_write(path, yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=110))
