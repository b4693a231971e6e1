"""Run N `lightretriever ingest --shard i/N` workers side by side on one machine and wait for all.

    python pipelines/ingest_sharded.py --workers 4 -- --bundle B --source S --index I [--device cuda:0 ...]

On several machines, run `lightretriever ingest ... --shard i/N` on each instead; the split is the
same. Each worker has its own checkpoint and dead-letter file; rerun to resume the unfinished ones.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

CLI = [sys.executable, "-c", "import sys; from lightretriever.cli import main; sys.exit(main())"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("ingest_args", nargs=argparse.REMAINDER, help="after --: `lightretriever ingest` options")
    args = parser.parse_args(argv)
    from lightretriever.client import secret_free_command

    # A password (--password, or inside an --opensearch URL) reaches the workers through their environment:
    # `ps` shows every user the command lines.
    rest, env = secret_free_command([a for a in args.ingest_args if a != "--"])
    procs = [
        subprocess.Popen([*CLI, "ingest", *rest,
                          "--shard", f"{i}/{args.workers}", "--no-progress"], env=env)
        for i in range(args.workers)
    ]
    codes = [p.wait() for p in procs]
    for i, code in enumerate(codes):
        print(f"shard {i}/{args.workers}: exit {code}")
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
