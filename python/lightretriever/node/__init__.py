"""Local OpenSearch node: Maven artifacts, Java discovery, single-node config, start/stop/status/logs."""

from lightretriever.node.local import LocalNode, default_home

__all__ = ["LocalNode", "default_home"]
