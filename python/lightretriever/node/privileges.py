"""OpenSearch refuses to run as root; as root, run the node as a non-root uid in a user namespace."""

from __future__ import annotations

import logging
import os
import shutil

from lightretriever.errors import NodeError

log = logging.getLogger(__name__)

NAMESPACE_UID = 1000


def launch_prefix() -> list[str]:
    """Command prefix that makes the node see a non-root uid (empty when not root).

    Inside the user namespace the node's uid is 1000, mapped to root outside, so it reads and writes the
    same root-owned files (even under a private /root) without any chown or loosened permission.
    """
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if not unshare:
        raise NodeError(
            "OpenSearch refuses to run as root and `unshare` (util-linux) is not installed to "
            "run it as another uid; install util-linux or run as a normal user"
        )
    log.debug("running as root: the node runs as uid %d in a user namespace", NAMESPACE_UID)
    return [unshare, "--user", f"--map-user={NAMESPACE_UID}", f"--map-group={NAMESPACE_UID}"]
