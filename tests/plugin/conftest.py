"""Plugin tests against the real node: the plugin zip must be built and installed in the node."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RELEASES = REPO / "opensearch_plugin" / "target" / "releases"


@pytest.fixture(scope="session")
def plugin_node(os_client):
    """The node's client, once the lightretriever plugin is known to be installed in it."""
    zips = sorted(RELEASES.glob("opensearch-lightretriever-*.zip"))
    if not zips:
        pytest.fail(
            f"plugin zip not built ({RELEASES}): run `mvn -B -q package` in opensearch_plugin/ "
            "(JAVA_HOME=Temurin >= 21), then `lightretriever node start --plugin <zip>`"
        )
    names = {row["component"] for row in os_client.cat.plugins(format="json")}
    if "lightretriever" not in names:
        pytest.fail(
            f"the node has no lightretriever plugin (installed: {sorted(names)}): "
            f"run `lightretriever node start --plugin {zips[-1]}`"
        )
    return os_client
