"""Taking snapshots: ``pg_dump``/``psql`` argv as data, and ``create_snapshot``.

``create_snapshot`` guarantees: the dump is written under a hidden partial name
(0600, in a 0700 directory when it creates it; an existing one must be the tool's
own and is never chmod-ed), fsynced, then read back and verified (gzip intact,
completion trailer present); only then is it renamed to its final name (never
overwriting one), followed by its ``.meta.json``. On any failure (pg_dump
missing or failing, killed, disk full, directory not writable) the partial
files are removed and a ``SnapshotError`` says why: nothing appears under a
snapshot's name.

``mode`` ``container`` runs the tools inside the database container with
``docker exec`` (no client on the host, versions always match); ``host`` uses
the host's binaries. The password travels in ``PGPASSWORD``, never in argv.
Restoring is ``togather_deploy.db.snapshots.restore``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from togather_deploy.commands.runner import Argv, docker_exec, run, spawn
from togather_deploy.config.db_url import DbUrl, parse_url, redact
from togather_deploy.db.migrations.database import VersionState, connect, read_version
from togather_deploy.db.snapshots import contents, restrict
from togather_deploy.db.snapshots.store import (
    SnapshotInfo,
    find_snapshot,
    meta_path,
    snapshot_name,
    verify_file,
)
from togather_deploy.errors import ConfigError, DeployError, SnapshotError
from togather_deploy.hostfs import paths as host_paths
from togather_deploy.hostfs.atomic import fsync_dir

CONTAINER_NAME = r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}"
"""Docker's container-name grammar."""
DEFAULT_COMPRESS_LEVEL = 1
"""``gzip -1 --rsyncable`` on the host. Measured (1M rows, 1 % changed, restic 0.14): pg_dump's own
``--compress=1`` made the 2nd backup upload 100 % of the 1st (31.4 MB again); ``--rsyncable`` made it
9.5 % (3.1 MB) for a 3 % bigger file; plain SQL 3.8 % but 4x the disk (123 MB). Same ``.sql.gz``
format: every older snapshot restores unchanged."""


@dataclass(frozen=True)
class Target:
    """Where the tools run: ``mode`` ``host`` or ``container`` (then ``container`` names it)."""

    mode: str = "container"
    container: str | None = None


def _wrap(target: Target, argv: list[str], db: DbUrl, *, stdin: bool = False) -> tuple[Argv, dict[str, str]]:
    env = {"PGPASSWORD": db.password} if db.password else {}
    if target.mode == "host":
        return (*argv, f"--dbname={db.without_password}"), {**env, "PGCONNECT_TIMEOUT": "10"}
    if not target.container:
        raise SnapshotError("snapshots.mode is container but no database container was given",
                            key="snapshots.mode", exit_code=10)
    if not re.fullmatch(CONTAINER_NAME, target.container):  # never read as a docker flag
        raise ConfigError(f"--container: {target.container!r} is not a container name", key="--container",
                          fix="pass the database container's name, e.g. togather-deploy-production-db")
    # Inside the container: the local socket, as the database user.
    return docker_exec(target.container, [*argv, f"--username={db.user}", f"--dbname={db.dbname}"],
                       env=env, interactive=stdin), env


def pg_dump_argv(target: Target, db: DbUrl, restrict_key: str | None = None) -> tuple[Argv, dict[str, str]]:
    """Plain SQL on stdout; ``gzip_argv`` compresses it on the host (see ``DEFAULT_COMPRESS_LEVEL``).
    ``restrict_key``: see ``togather_deploy.db.snapshots.restrict`` (not a credential)."""
    key = [f"--restrict-key={restrict_key}"] if restrict_key else []
    return _wrap(target, ["pg_dump", "--format=plain", "--no-owner", "--no-acl", "--clean", "--if-exists",
                          "--compress=0", "--lock-wait-timeout=120000", *key], db)


def gzip_argv(level: int = DEFAULT_COMPRESS_LEVEL) -> Argv:
    return ("gzip", f"-{level}", "--rsyncable", "--no-name")


def psql_restore_argv(target: Target, db: DbUrl) -> tuple[Argv, dict[str, str]]:
    argv, env = _wrap(target, ["psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
                               "--single-transaction", "--output=/dev/null"], db, stdin=True)
    # lock_timeout: a restore under a running app fails clearly instead of queueing behind it.
    return argv, {**env, "PGOPTIONS": "-c client_min_messages=warning -c lock_timeout=60s"}


def version_argv(target: Target, flag: str = "--version") -> Argv:
    if target.mode == "host":
        return ("pg_dump", flag)
    return docker_exec(target.container or "", ["pg_dump", flag])


def ensure_directory(directory: str) -> None:
    """Create the snapshot directory 0700, or check the existing one is the tool's own (never
    chmod it: ``togather_deploy.hostfs.paths``), and check it is writable."""
    try:
        host_paths.ensure_dir(directory, 0o700)
    except OSError as exc:
        raise SnapshotError("snapshot directory cannot be created or secured", file=directory, cause=exc,
                            fix="create it, owned by the deploying user, mode 0700") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise SnapshotError("snapshot directory is not writable", file=directory,
                            fix="chown the directory to this user, or choose another: --dir / "
                            "togather:snapshots.dir")


def create_snapshot(url: str, directory: str, *, target: Target, app_version: str, reason: str,
                    now: datetime | None = None, level: int = DEFAULT_COMPRESS_LEVEL,
                    timeout_s: float = 3600) -> SnapshotInfo:
    """Dump the database into a verified snapshot (see module docstring)."""
    db = parse_url(url)
    ensure_directory(directory)
    created = now or datetime.now(UTC)
    name = snapshot_name(db.dbname, created, app_version)
    final = os.path.join(directory, name)
    if os.path.exists(final):
        raise SnapshotError("a snapshot with this name already exists", file=final,
                            fix="wait a second and retry (names carry the time to the second)")
    schema = _schema_version(url)
    tool_version = _tool_version(target)
    helped = run(version_argv(target, "--help"), timeout=60, check=False)
    key = restrict.key_for(url, db.password) if restrict.supported(helped.stdout) else None
    partial = os.path.join(directory, f".{name}.partial-{os.getpid()}")
    meta_partial = os.path.join(directory, f".{name[:-len('.sql.gz')]}.meta.json.partial-{os.getpid()}")
    started = time.perf_counter()
    try:
        _dump(target, db, url, partial, level, timeout_s, key)
        checked = verify_file(partial)
        tables = contents.digest_file(partial)  # what the restore drill compares against
        meta = {"file": name, "database": db.dbname, "created_at": created.astimezone(UTC).isoformat(),
                "reason": reason, "app_version": app_version,
                "schema_version": schema.version, "schema_dirty": schema.dirty,
                "sha256": checked.sha256, "size": checked.size,
                "duration_s": round(time.perf_counter() - started, 3),
                "pg_dump_version": tool_version, "mode": target.mode, "compress_level": level,
                "rsyncable": True, "tables": tables}
        _write_private(meta_partial, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
        os.link(partial, final)  # fails rather than overwrite an existing snapshot
        os.replace(meta_partial, meta_path(final))
        fsync_dir(directory)
    except OSError as exc:
        raise SnapshotError(_os_reason(exc), file=directory, cause=exc) from None
    finally:
        for path in (partial, meta_partial):
            if os.path.exists(path):
                os.unlink(path)
    return find_snapshot(directory, name)


def _schema_version(url: str) -> VersionState:
    import psycopg

    conn = connect(url)
    try:
        return read_version(conn)
    except psycopg.Error as exc:
        raise SnapshotError(f"cannot read the schema version: {redact(str(exc), url).strip()}",
                            fix="the database user needs SELECT on schema_migrations and every table",
                            ) from None
    finally:
        conn.close()


def _tool_version(target: Target) -> str:
    try:
        return run(version_argv(target), timeout=60, what="pg_dump --version").stdout.strip()
    except DeployError as exc:
        fix = ("install the PostgreSQL client (apt-get install postgresql-client-15) or use "
               "togather:snapshots.mode container") if target.mode == "host" else \
            f"is the database container {target.container} running? (docker ps)"
        raise SnapshotError(f"cannot run pg_dump ({target.mode} mode): {exc.message}", fix=fix,
                            context=exc.context) from None


def _dump(target: Target, db: DbUrl, url: str, partial: str, level: int, timeout_s: float,
          key: str | None) -> None:
    argv, env = pg_dump_argv(target, db, key)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        dump = spawn(argv, env=env, stdout=subprocess.PIPE)
        zipper = spawn(gzip_argv(level), stdin=dump.stdout, stdout=fd)
        if dump.stdout is not None:
            dump.stdout.close()  # gzip holds the pipe now: pg_dump sees EPIPE if gzip dies
        try:
            _out, zerr = zipper.communicate(timeout=timeout_s)
            _out, err = dump.communicate(timeout=60)
        except BaseException:
            for proc in (dump, zipper):
                proc.kill()
                proc.wait()
            raise
        if dump.returncode != 0 or zipper.returncode != 0:
            # gzip first: when it dies (disk full), pg_dump only sees a broken pipe (SIGPIPE).
            failed, rc, text = ("gzip", zipper.returncode, zerr) if zipper.returncode != 0 else \
                ("pg_dump", dump.returncode, err)
            stderr = redact(text.decode("utf-8", "replace"), url).strip()
            how = (f"was killed by signal {-rc}" if rc < 0 else f"failed with exit code {rc}")
            if "No space left" in stderr:
                how += ": no space left on the snapshot filesystem"
            raise SnapshotError(f"{failed} {how}; no snapshot was written",
                                context={"stderr": stderr[-1500:]},
                                fix="free space in the snapshot directory" if "No space" in stderr else None)
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _os_reason(exc: OSError) -> str:
    if exc.errno == 28:
        return "no space left on the snapshot filesystem; no snapshot was written"
    if exc.errno in (13, 30):
        return "snapshot directory is not writable; no snapshot was written"
    return f"writing the snapshot failed ({exc.strerror}); no snapshot was written"
