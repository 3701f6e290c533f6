"""A real PostgreSQL server for the tests: `initdb` and `pg_ctl` into a temporary directory,
listening on 127.0.0.1 only, started once per test session and stopped at its end.

As root, the server runs as the `postgres` user (initdb refuses root). Without the server
binaries the PostgreSQL tests are skipped, loudly; `.ci/run` installs them so CI never skips.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

BINARIES = ("initdb", "pg_ctl")


def _binary(name: str) -> str | None:
    """A server binary: on PATH, or where Debian's postgresql package puts it."""
    found = shutil.which(name)
    if found is None:
        candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        found = str(candidates[-1]) if candidates else None
    return found


def available() -> bool:
    """True when the server binaries can be found."""
    return all(_binary(name) for name in BINARIES)


def _as_server_user(command: list[str]) -> list[str]:
    command = [_binary(command[0]) or command[0], *command[1:]]
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server in a temporary directory: its admin URL, and stop/start for outages."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="agreement-pg-"))
        self.data = self.directory / "data"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        """Create the cluster (trust authentication, on 127.0.0.1 only)."""
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        command = ["initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        subprocess.run(_as_server_user(command), check=True, capture_output=True)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        log = str(self.directory / "server.log")
        command = ["pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l", log, "start"]
        subprocess.run(_as_server_user(command), check=True, capture_output=True)

    def stop(self) -> None:
        """Stop the server at once (connections are cut)."""
        command = ["pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"]
        subprocess.run(_as_server_user(command), check=False, capture_output=True)


@contextmanager
def running_server() -> Iterator[Server]:
    """A server for as long as the context lasts."""
    server = Server()
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


def fresh_database(admin_url: str) -> str:
    """A new, empty database on the server; its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return admin_url.rsplit("/", 1)[0] + f"/{name}"
