"""`lightretriever` console script: one module per command group, each exposing `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Command modules are imported lazily so `lightretriever node status` never pays for torch.
COMMAND_MODULES = ["node", "bundle", "ingest", "dsl", "search", "fusion", "eval", "train", "plugin", "demo", "adapt"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lightretriever", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"lightretriever.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # user-facing errors: one clear line, no traceback unless -v
        from lightretriever.client import access_error
        from lightretriever.errors import LightRetrieverError
        from lightretriever.extras import missing_extra

        sub = next((getattr(args, k) for k in ("action", "bundle_command", "plugin_command") if getattr(args, k, None)), None)
        command = " ".join(filter(None, ["lightretriever", args.command, sub]))
        explained = missing_extra(exc, f"`{command}`") or access_error(exc)
        if explained is not None:
            if args.verbose:
                raise explained from exc
            exc = explained
        if isinstance(exc, LightRetrieverError) and not args.verbose:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
