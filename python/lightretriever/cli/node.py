"""`lightretriever node start|stop|status|logs`: the local OpenSearch node."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("node", help="run a local OpenSearch + k-NN node (no Docker)")
    actions = parser.add_subparsers(dest="action", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--home", help="cache directory (default $LIGHTRETRIEVER_HOME or ~/.cache/lightretriever)"
        )

    start = actions.add_parser("start", help="start the node, or reuse the running one")
    common(start)
    start.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="ZIP",
        help="extra plugin zip to install (reinstalled when its sha256 changes); repeatable",
    )
    start.add_argument("--heap", default="1g", help="JVM heap of each node, e.g. 1g or 512m (default 1g)")
    start.add_argument(
        "--port",
        type=int,
        help="HTTP port (default: the last one, 9200, or any free port); node i of a cluster gets PORT + i - 1",
    )
    start.add_argument(
        "--nodes",
        type=int,
        help="run this many nodes on 127.0.0.1 as one cluster (default: as this home ran last, else 1); "
        "with 3 nodes, give each --heap 512m on a small machine",
    )
    start.add_argument(
        "--timeout", type=float, help="seconds to wait for yellow health (default 180, +120 per further node)"
    )
    start.add_argument(
        "--secure",
        action="store_true",
        help="also put nginx in front of the node: TLS (a throw-away CA) and basic auth, on 127.0.0.1; "
        "prints the https URL last, the password is in <home>/secure/credentials.env (docs/security.md)",
    )
    start.add_argument("--secure-port", type=int, help="HTTPS port of --secure (default: any free port)")
    start.set_defaults(func=_start)

    stop = actions.add_parser("stop", help="stop the node (every node of a cluster) this home started")
    common(stop)
    stop.set_defaults(func=_stop)

    status = actions.add_parser("status", help="print the node's state and health as JSON")
    common(status)
    status.set_defaults(func=_status)

    logs = actions.add_parser("logs", help="print the end of the node's log")
    common(logs)
    logs.add_argument("-n", "--lines", type=int, default=100)
    logs.set_defaults(func=_logs)


def _node(args: argparse.Namespace, **kwargs):
    from lightretriever.node import LocalNode

    return LocalNode(args.home, **kwargs)


def _start(args: argparse.Namespace) -> int:
    node = _node(
        args, port=args.port, heap=args.heap, plugins=args.plugin, startup_timeout=args.timeout, nodes=args.nodes
    )
    state = node.start()
    pids = ", ".join(str(m["pid"]) for m in state["nodes"]) if "nodes" in state else state["pid"]
    size = f"{len(state['nodes'])}-node cluster" if "nodes" in state else "OpenSearch"
    if state["reused"]:
        print(f"{size} already running at {state['url']} (pid {pids})")
    else:
        version = f"OpenSearch {state['version']}" + (f" ({size})" if "nodes" in state else "")
        print(f"{version} healthy at {state['url']} after {state['seconds_to_healthy']:.1f}s (pid {pids})")
    if "nodes" in state:
        for member in state["nodes"]:
            print(f"  {member['name']}: {member['url']} (transport {member['transport_port']}, pid {member['pid']})")
    if not args.secure:
        print(state["url"])
        return 0
    front = node.start_secure(args.secure_port)
    print(
        f"TLS + basic auth (nginx) at {front['url']} in front of {state['url']}: user {front['user']}, "
        f"CA {front['ca_certs']}; the password and every setting are in {front['credentials_file']} "
        f"(set -a; . {front['credentials_file']}; set +a)"
    )
    print(front["url"])
    return 0


def _stop(args: argparse.Namespace) -> int:
    print("stopped" if _node(args).stop() else "not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    state = _node(args).status()
    json.dump(state, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0 if state["running"] else 3  # like `systemctl status`: non-zero when not running


def _logs(args: argparse.Namespace) -> int:
    sys.stdout.write(_node(args).logs(args.lines))
    return 0
