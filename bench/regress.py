"""Check the expected scores of bench/regressions/*.yaml (Pyserini 2CR style), or rewrite them.

    python bench/regress.py --bundle /work/bundles/minilm                 # every file, against the node
    python bench/regress.py bench/regressions/scifact-minilm.yaml --bundle B --opensearch URL
    python bench/regress.py --bundle B --update                           # after an intended change

A file with a `slice` is the CI subset: its own `commands.check` / `commands.update` run (pytest builds the
slice). The others name a collection already ingested into `index` with the bundle: every system in
`systems` (else in `expected`) is evaluated on the collection's split through OpenSearch, and nDCG@10 and R@100 must lie
within the file's tolerance of the expected figures (a rise fails too: the figures are stale). Learned
fusion is trained as the file's `fusion_training` says (on a train split, never the test split) into a
temporary copy of the bundle, once per run. Exit status 1 when any file differs.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lightretriever.bundle import Bundle
from lightretriever.client import add_connection_args, client_from_args
from lightretriever.evaluate import ALL_SYSTEMS, evaluate_dataset, regression
from lightretriever.evaluate.dataset import default_data_dir
from lightretriever.evaluate.report import machine

ROOT = Path(__file__).resolve().parents[1]
REGRESSIONS = ROOT / "bench" / "regressions"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="regression files (default: all of bench/regressions)")
    parser.add_argument("--bundle", type=Path, help="the bundle the indices were ingested with (files without a slice)")
    parser.add_argument(
        "--data", type=Path, default=default_data_dir(),
        help="directory of the BEIR collections (default $LIGHTRETRIEVER_DATA, else ../shared/data)",
    )
    parser.add_argument("--update", action="store_true", help="rewrite the expected figures instead of checking")
    parser.add_argument("--no-slice", action="store_true", help="skip the CI subset (it runs in CI anyway)")
    add_connection_args(parser)
    args = parser.parse_args(argv)

    files = args.files or sorted(REGRESSIONS.glob("*.yaml"))
    client, trained = None, {}
    failed = []
    with tempfile.TemporaryDirectory(prefix="regress-") as work:
        for path in files:
            spec = regression.load(path)
            if "slice" in spec:
                if not args.no_slice and not run_slice(spec, args.update):
                    failed.append(path.name)
                continue
            if args.bundle is None:
                parser.error(f"{path.name} needs --bundle (the bundle its index was ingested with)")
            client = client or client_from_args(args)
            bundle = bundle_for(spec, args, client, Path(work), trained)
            actual = measure(spec, bundle, args.data, client)
            problems = [] if args.update else regression.compare(spec, actual)
            if args.update:
                regression.update(path, actual, machine(), bundle=str(args.bundle))
            print(f"{path.name}: {'updated' if args.update else 'ok' if not problems else 'DIFFERS'}")
            for problem in problems:
                print(f"  {problem}")
            if problems and spec.get("pending"):
                print(f"  (pending: {spec['pending']})")
            if problems:
                failed.append(path.name)
    if failed:
        print(f"{len(failed)} of {len(files)} regression files differ: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def run_slice(spec: dict, update: bool) -> bool:
    command = spec["commands"]["update" if update else "check"]
    print(f"CI subset: {command}", flush=True)
    return subprocess.run(command, shell=True, cwd=ROOT, check=False).returncode == 0


def systems_of(spec: dict) -> list[str]:
    """The file's `systems`, else those it has figures for, else all of them."""
    return list(spec.get("systems") or spec["expected"] or ALL_SYSTEMS)


def bundle_for(spec: dict, args, client, work: Path, trained: dict) -> Bundle:
    """The bundle, with the learned fusion trained as the file says when `hybrid-learned` is measured."""
    training = spec.get("fusion_training")
    if not training or "hybrid-learned" not in systems_of(spec):
        return Bundle.load(args.bundle)
    key = (training["dataset"], training["split"], training["index"])
    if key not in trained:
        from lightretriever.fuse.learn.pipeline import train_fusion

        copy = work / f"bundle-{len(trained)}"
        shutil.copytree(args.bundle, copy)
        bundle = Bundle.load(copy)
        if not (bundle.manifest.get("fusion") or {}).get("learned"):
            print(f"training the learned fusion on {training['dataset']}/{training['split']} ...", flush=True)
            train_fusion(bundle, client, training["index"], args.data / training["dataset"], training["split"],
                         folds=0, progress=False)  # folds only report CV scores; the model is the same
        trained[key] = Bundle.load(copy)
    return trained[key]


def measure(spec: dict, bundle: Bundle, data: Path, client) -> dict[str, dict[str, float]]:
    report = evaluate_dataset(
        data / spec["collection"],
        bundle,
        spec["index"],
        client,
        split=spec.get("split", "test"),
        systems=systems_of(spec),
        hnsw=False,
        progress=False,
    )
    return regression.figures(report)


if __name__ == "__main__":
    sys.exit(main())
