"""Zero-downtime re-encoding: read the documents behind ALIAS, encode them with a new bundle into
ALIAS-v<N+1>, verify the count, move ALIAS (thin wrapper over `lightretriever ingest --alias`).

    python pipelines/reencode_index.py --alias scifact --bundle NEW_BUNDLE [--delete-old] [...]
"""

from __future__ import annotations

import argparse
import sys

from lightretriever.cli import main as cli_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alias", required=True, help="alias that serves searches now")
    args, rest = parser.parse_known_args(argv)
    return cli_main(["ingest", "--source", f"index:{args.alias}", "--alias", args.alias, *rest])


if __name__ == "__main__":
    sys.exit(main())
