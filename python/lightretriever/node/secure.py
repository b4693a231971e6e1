"""A secured front for the local node: nginx terminating TLS, with basic auth, on 127.0.0.1.

`lightretriever node start --secure` puts it in front of the node, so that the client's TLS and auth options meet
a real server: a throw-away CA and server certificate, an htpasswd file, and nginx from the system's packages
(Debian: `apt-get install nginx-light`). Everything lives under <home>/secure/; the password is in
credentials.env (mode 0600), never on a command line. The node itself still listens, unsecured, on its own
loopback port: this is a test rig for the client, not a hardened deployment (docs/security.md).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import logging
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

from lightretriever.errors import NodeError
from lightretriever.node import privileges, settings

log = logging.getLogger(__name__)

DEFAULT_USER = "lightretriever"
NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")

NGINX_CONF = """\
# Written by lightretriever.node.secure: TLS + basic auth in front of the node at 127.0.0.1:{upstream}.
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    # No $remote_user and no headers: the access log shows requests, never credentials.
    log_format requests '$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time';
    access_log {dir}/access.log requests;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    client_max_body_size 0;  # the node enforces its own http.max_content_length
    upstream opensearch {{
        server 127.0.0.1:{upstream};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {dir}/server.pem;
        ssl_certificate_key {dir}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        auth_basic "lightretriever";
        auth_basic_user_file {dir}/htpasswd;
        location / {{
            proxy_pass http://opensearch;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "";  # the node behind needs none: credentials stop here
            proxy_request_buffering off;
            proxy_read_timeout 600s;
            proxy_send_timeout 600s;
        }}
    }}
}}
"""


def find_nginx() -> str:
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise NodeError(
        "--secure needs nginx, which is not installed: apt-get install nginx-light (Debian/Ubuntu), "
        "or another package that provides nginx with the ssl module"
    )


def htpasswd_line(user: str, password: str) -> str:
    """One htpasswd entry in nginx's salted-SHA1 scheme ({SSHA}), so the file holds no plain password."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # the scheme nginx reads
    return f"{user}:{{SSHA}}{base64.b64encode(digest + salt).decode()}\n"


def write_certificates(directory: Path, hostnames: tuple[str, ...] = ("localhost",)) -> None:
    """A throw-away CA (ca.pem) and a server certificate for 127.0.0.1 and `hostnames` signed by it."""
    try:
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ModuleNotFoundError as exc:
        from lightretriever.extras import missing_extra

        raise (missing_extra(exc, "`node start --secure`") or exc) from None

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lightretriever throw-away test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(h) for h in hostnames] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write_private(
        directory / "server.key",
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    (directory / "server.pem").write_bytes(cert.public_bytes(pem))
    (directory / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    # The CA's key is not kept: nothing else will ever be signed by this CA.


def _write_private(path: Path, data: bytes) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


class SecureProxy:
    """nginx under <home>/secure: start() in front of a node's HTTP port, stop() by its pid file."""

    def __init__(self, home: Path):
        self.dir = Path(home) / "secure"
        self.pid_file = self.dir / "nginx.pid"
        self.credentials_file = self.dir / "credentials.env"

    def start(self, upstream_port: int, *, port: int | None = None, user: str = DEFAULT_USER,
              password: str | None = None) -> dict:
        """(Re)start the proxy; returns its url, user, ca_certs and credentials file (not the password)."""
        nginx = find_nginx()
        self.stop()
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        if not (self.dir / "ca.pem").is_file() or not (self.dir / "server.key").is_file():
            write_certificates(self.dir)
        password = password or self._stored_password() or _new_password()
        port = port or settings.free_port()
        if not settings.port_free(port):
            raise NodeError(f"port {port} on 127.0.0.1 is already in use; choose another with --secure-port")
        for sub in ("tmp/body", "tmp/proxy"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "htpasswd").write_text(htpasswd_line(user, password))
        url = f"https://127.0.0.1:{port}"
        _write_private(
            self.credentials_file,
            (
                f"LIGHTRETRIEVER_OPENSEARCH_URL={url}\nLIGHTRETRIEVER_OPENSEARCH_USER={user}\n"
                f"LIGHTRETRIEVER_OPENSEARCH_PASSWORD={password}\n"
                f"LIGHTRETRIEVER_OPENSEARCH_CA_CERTS={self.dir / 'ca.pem'}\n"
            ).encode(),
        )
        conf = self.dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=self.dir, upstream=upstream_port, port=port))
        # As root, nginx would hand its workers to `nobody`, who cannot read this private directory; in the
        # node's user namespace it runs as one non-root uid that owns these files (privileges.py).
        cmd = [*privileges.launch_prefix(), nginx, "-p", str(self.dir), "-c", str(conf), "-e", str(self.dir / "error.log")]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise NodeError(f"nginx did not start ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[-2000:]}")
        self._wait_ready(port)
        return {"url": url, "user": user, "ca_certs": str(self.dir / "ca.pem"),
                "credentials_file": str(self.credentials_file), "pid": self.pid(), "port": port}

    def _stored_password(self) -> str | None:
        """Keep the password across restarts, so clients configured from credentials.env keep working."""
        try:
            for line in self.credentials_file.read_text().splitlines():
                if line.startswith("LIGHTRETRIEVER_OPENSEARCH_PASSWORD="):
                    return line.partition("=")[2] or None
        except OSError:
            return None
        return None

    def _wait_ready(self, port: int, timeout: float = 15.0) -> None:
        context = ssl.create_default_context(cafile=str(self.dir / "ca.pem"))
        deadline = time.monotonic() + timeout
        while True:
            try:
                with (
                    socket.create_connection(("127.0.0.1", port), timeout=2) as sock,
                    context.wrap_socket(sock, server_hostname="127.0.0.1"),
                ):
                    return
            except OSError as exc:
                if time.monotonic() > deadline:
                    log_tail = (self.dir / "error.log").read_text(errors="replace")[-1500:] if (
                        self.dir / "error.log").is_file() else ""
                    raise NodeError(f"nginx at 127.0.0.1:{port} did not answer TLS within {timeout:.0f}s ({exc}); "
                                    f"error.log: {log_tail}") from None
                time.sleep(0.1)

    def pid(self) -> int | None:
        from lightretriever.node.local import pid_alive

        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop nginx (master and workers); False when it was not running."""
        from lightretriever.node.local import pid_alive

        pid = self.pid()
        if pid is None:
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"nginx" not in cmdline:
                return False  # a reused pid: not ours
        except OSError:
            pass
        os.kill(pid, signal.SIGTERM)  # nginx: fast shutdown of master and workers
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True


def _new_password() -> str:
    """A random password that does not start with "-": `--password -x...` would read as an option (argparse)."""
    while (password := secrets.token_urlsafe(18)).startswith("-"):
        pass
    return password
