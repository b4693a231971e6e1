"""Ingest a BEIR collection's corpus into an index with a bundle (thin wrapper over `lightretriever ingest`).

    python pipelines/ingest_beir.py --bundle BUNDLE --dataset /work/shared/data/scifact \
        --index scifact-minilm-zeroshot [any other `lightretriever ingest` option]

Rerunning the same command resumes an interrupted run; a finished one is not redone.
"""

from __future__ import annotations

import argparse
import sys

from lightretriever.cli import main as cli_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help="BEIR folder (corpus.jsonl)")
    args, rest = parser.parse_known_args(argv)
    return cli_main(["ingest", "--source", f"beir:{args.dataset}", *rest])


if __name__ == "__main__":
    sys.exit(main())
