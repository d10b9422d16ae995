"""A simulated province on this machine: centers (real mosquitto + hub + SQLite store) bridged with the generated
configs to one provincial mosquitto, ``qms province ingest`` as its own process, and a throw-away PostgreSQL
database. Used by tests/province and bench/bench_province.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mqtt_bus.broker import EmbeddedBroker, free_port

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_DSN = os.environ.get("QMS_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


def qms(*args: str, timeout: float = 30) -> str:
    """Run the real ``qms`` CLI; its stdout (raises with stderr on failure)."""
    res = subprocess.run([sys.executable, "-m", "qms.cli", *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"qms {' '.join(args)} failed ({res.returncode}):\n{res.stderr}")
    return res.stdout


def pg_available() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        import psycopg
    except ImportError as exc:
        return f"psycopg is not installed ({exc}): pip install -e '.[province]'"
    try:
        psycopg.connect(PG_ADMIN_DSN, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        return f"no PostgreSQL server answers at {PG_ADMIN_DSN!r}: {str(exc).strip()}"
    return None


class TempDatabase:
    """A PostgreSQL database of its own (unique name), dropped on :meth:`drop`."""

    def __init__(self, prefix: str = "qms_province_test") -> None:
        import psycopg

        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{self.name}"')
        base = " ".join(p for p in PG_ADMIN_DSN.split() if not p.startswith("dbname="))
        self.dsn = f"{base} dbname={self.name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class ProvinceBroker(EmbeddedBroker):
    """The provincial mosquitto: Debian's defaults (persistence, log) + the generated ``province.conf``."""

    def __init__(self, data_dir: Path, conf: Path, port: int) -> None:
        super().__init__(data_dir, port=port)
        self.conf = conf

    def config_text(self) -> str:
        lines = ["persistence true", f"persistence_location {self.dir}/", "persistence_file mosquitto.db",
                 f"log_dest file {self.log_path}", "log_type all"]
        if os.geteuid() == 0:
            lines.append("user root")
        return "\n".join(lines) + "\n" + self.conf.read_text()


@dataclass
class Province:
    """Paths and ports of the provincial side."""

    dir: Path
    sites: list[str]
    port: int = field(default_factory=free_port)
    broker: ProvinceBroker | None = None

    def configure(self, bind: str = "127.0.0.1") -> None:
        """``qms province broker-config`` for the sites, installed under this folder (``bind=""``: every
        interface, for centers in their own network namespace)."""
        out = self.dir / "etc"
        args = ["province", "broker-config", "--out", str(out), "--port", str(self.port), "--bind", bind,
                "--install-dir", str(out)]
        for site in self.sites:
            args += ["--site", site]
        qms(*args)
        self.broker = ProvinceBroker(self.dir / "mosquitto", out / "province.conf", self.port)

    def secret(self, login: str) -> str:
        return (self.dir / "etc" / "secrets" / login).read_text().strip()

    def secret_file(self, login: str) -> Path:
        return self.dir / "etc" / "secrets" / login

    def bridge_conf(self, site: str, restart: str = "1,2", host: str = "127.0.0.1") -> list[str]:
        """``qms province bridge-config`` for *site*, as lines for the center's broker."""
        text = qms("province", "bridge-config", "--site", site, "--province-host", host,
                   "--province-port", str(self.port), "--password-file", str(self.secret_file(f"site-{site}")),
                   "--restart-timeout", restart)
        return text.splitlines()

    def start_ingest(self, dsn: str, client_id: str = "ingest-1", ready_s: float = 20,
                     cafile: Path | None = None) -> subprocess.Popen:
        """``qms province ingest`` as its own process (over TLS with *cafile*); returns once it is subscribed."""
        url = f"{'mqtts' if cafile else 'mqtt'}://ingest@127.0.0.1:{self.port}"
        tls = ["--cafile", str(cafile)] if cafile else []
        log = self.dir / f"{client_id}.log"
        seen = log.read_text().count("subscribed: ready") if log.exists() else 0
        with open(log, "ab") as err:
            proc = subprocess.Popen([sys.executable, "-m", "qms.cli", "province", "ingest", "--province-broker", url,
                                     "--password-file", str(self.secret_file("ingest")), "--dsn", dsn,
                                     "--client-id", client_id, *tls], cwd=ROOT, stdout=err, stderr=err)
        if not wait_until(lambda: log.read_text().count("subscribed: ready") > seen or proc.poll() is not None,
                          ready_s):
            proc.kill()
            raise RuntimeError(f"the ingester did not subscribe within {ready_s} s:\n{log.read_text()[-2000:]}")
        if proc.poll() is not None:
            raise RuntimeError(f"the ingester exited ({proc.returncode}):\n{log.read_text()[-2000:]}")
        return proc


def center_config(folder: Path, site: str) -> Path:
    """The commune center, always open and without per-device limits, as site *site*."""
    from testkit.sites import roomy_config

    path = roomy_config(folder)
    text = path.read_text(encoding="utf-8")
    assert "id: xa-da-huoai" in text
    path.write_text(text.replace("id: xa-da-huoai", f"id: {site}", 1), encoding="utf-8")
    return path


def wait_until(check: Any, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return bool(check())


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 (openssl)."""
    if not shutil.which("openssl"):
        import pytest

        pytest.skip("openssl not installed")
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, crt = (folder / n for n in ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt"))
    ext = folder / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
        "-subj", "/CN=QMS test province CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial", "-out", str(crt),
        "-days", "2", "-extfile", str(ext))
    return ca, crt, key


def tls_province(folder: Path, site: str) -> tuple[ProvinceBroker, Path, Path]:
    """A started provincial mosquitto over TLS for *site* (``qms province broker-config``); with its config folder
    (``secrets/``) and the CA certificate."""
    ca, crt, key = make_ca(folder / "tls")
    port = free_port()
    etc = folder / "etc"  # the layout of Province(folder, ...): its ingester finds secrets/ingest there
    qms("province", "broker-config", "--site", site, "--out", str(etc), "--port", str(port), "--bind", "127.0.0.1",
        "--install-dir", str(etc), "--certfile", str(crt), "--keyfile", str(key))
    return ProvinceBroker(folder / "province", etc / "province.conf", port).start(), etc, ca
