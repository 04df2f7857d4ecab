"""A throwaway PostgreSQL 15 server (Debian packages), run as the ``postgres`` user.

``initdb``/``postgres`` refuse to run as root, so both run through ``runuser``.
Local socket connections are trusted; TCP needs the password, so tests can
exercise a wrong password for real.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass

from testkit.ports import free_port, wait_port

SUPERUSER_PASSWORD = "test-superuser-pw"


def pg_bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@dataclass
class PostgresServer:
    datadir: str
    port: int
    bindir: str

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def dsn(self, dbname: str = "postgres", user: str = "postgres",
            password: str = SUPERUSER_PASSWORD) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database with PostGIS available; returns its DSN."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def stop(self) -> None:
        subprocess.run(_as_postgres([f"{self.bindir}/pg_ctl", "-D", self.datadir, "-m", "fast",
                                     "-w", "stop"]), capture_output=True, check=False)
        shutil.rmtree(os.path.dirname(self.datadir), ignore_errors=True)


def start_postgres(port: int | None = None) -> PostgresServer:
    """initdb + start a new server (on ``port``, else a free one), waiting until it listens."""
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql-15")
    base = tempfile.mkdtemp(prefix="togather-pg-")
    datadir = os.path.join(base, "data")
    pwfile = os.path.join(base, "pw")
    with open(pwfile, "w") as fh:
        fh.write(SUPERUSER_PASSWORD + "\n")
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(base, pg.pw_uid, pg.pw_gid)
        os.chown(pwfile, pg.pw_uid, pg.pw_gid)
    subprocess.run(_as_postgres([f"{bindir}/initdb", "-D", datadir, "-U", "postgres",
                                 "--auth-local=trust", "--auth-host=scram-sha-256",
                                 f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True)
    port = port or free_port()
    opts = (f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
    subprocess.run(_as_postgres([f"{bindir}/pg_ctl", "-D", datadir, "-o", opts, "-l",
                                 os.path.join(base, "log"), "-w", "start"]),
                   check=True, capture_output=True)
    wait_port(port)
    return PostgresServer(datadir=datadir, port=port, bindir=bindir)
