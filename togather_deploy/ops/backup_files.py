"""The backup's files under ``<stateDir>/backup`` (0700): secrets for restic, job results, logs.

    password          the restic password, 0600, written by ``pulumi up`` (never in argv or logs)
    credentials.env   ``NAME=value`` lines for the backend (``AWS_SECRET_ACCESS_KEY``…), 0600
    database-url      the database URL the scheduled snapshot and the drill use, 0600
    jobs/<job>.json   the last run of each scheduled job, written by the job itself
    logs/<job>.log    what cron captured of each job's output
    cache/            restic's local cache

A scheduled job runs without the Pulumi passphrase, so it reads the two secret files instead
of the stack's encrypted config. Writes are atomic (temp file, fsync, rename): a reader never
sees half a password or half a job result.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from togather_deploy.errors import ConfigError
from togather_deploy.hostfs import paths as host_paths
from togather_deploy.hostfs.atomic import atomic_write

JOBS = ("snapshot", "backup", "drill")
_ENV_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)")


def backup_dir(state_dir: str) -> str:
    return os.path.join(state_dir, "backup")


def password_path(state_dir: str) -> str:
    return os.path.join(backup_dir(state_dir), "password")


def credentials_path(state_dir: str) -> str:
    return os.path.join(backup_dir(state_dir), "credentials.env")


def database_url_path(state_dir: str) -> str:
    return os.path.join(backup_dir(state_dir), "database-url")


def cache_dir(state_dir: str) -> str:
    return os.path.join(backup_dir(state_dir), "cache")


def log_path(state_dir: str, job: str) -> str:
    return os.path.join(backup_dir(state_dir), "logs", f"{job}.log")


def job_path(state_dir: str, job: str) -> str:
    return os.path.join(backup_dir(state_dir), "jobs", f"{job}.json")


def write_atomic(path: str, data: bytes, mode: int = 0o600) -> None:
    """``hostfs.atomic`` (the project's one atomic writer), 0600 unless told otherwise."""
    atomic_write(path, data, mode=mode)


def ensure_dirs(state_dir: str) -> None:
    host_paths.ensure_dir(state_dir, 0o700)
    for sub in ("", "jobs", "logs", "cache"):
        host_paths.ensure_dir(os.path.join(backup_dir(state_dir), sub) if sub else backup_dir(state_dir),
                              0o700)


def write_secrets(state_dir: str, password: str, credentials: Mapping[str, str],
                  database_url: str | None = None) -> None:
    """The files a scheduled job reads (all 0600); called by ``pulumi up``."""
    ensure_dirs(state_dir)
    write_atomic(password_path(state_dir), password.encode())
    lines = "".join(f"{k}={v}\n" for k, v in sorted(credentials.items()))
    write_atomic(credentials_path(state_dir), lines.encode())
    if database_url:
        write_atomic(database_url_path(state_dir), database_url.encode() + b"\n")


def read_credentials(state_dir: str) -> dict[str, str]:
    """``credentials.env`` (missing: none). A value is taken verbatim up to the line end."""
    try:
        with open(credentials_path(state_dir), encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return {}
    out = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _ENV_LINE.fullmatch(line)
        if match is None:
            raise ConfigError(f"line {number} is not NAME=value", file=credentials_path(state_dir),
                              fix="run `pulumi up` to rewrite it from togather:backup.credentials")
        out[match.group(1)] = match.group(2)
    return out


@dataclass(frozen=True)
class JobResult:
    job: str
    ok: bool
    started_at: float
    finished_at: float
    detail: str
    exit_code: int = 0
    facts: Mapping[str, Any] | None = None
    """Numbers for metrics (``bytes_added``, ``duration_s``, ``snapshot``…)."""


def record(state_dir: str, result: JobResult) -> None:
    ensure_dirs(state_dir)
    data = json.dumps(asdict(result), sort_keys=True, default=str).encode() + b"\n"
    write_atomic(job_path(state_dir, result.job), data, 0o600)


def last(state_dir: str, job: str) -> JobResult | None:
    try:
        with open(job_path(state_dir, job), encoding="utf-8") as fh:
            data = json.load(fh)
        return JobResult(**data)
    except (OSError, ValueError, TypeError):
        return None


def last_success(state_dir: str, job: str) -> float | None:
    """When ``job`` last succeeded: kept across failures in the result's facts."""
    prev = last(state_dir, job)
    if prev is None:
        return None
    if prev.ok:
        return prev.finished_at
    value = (prev.facts or {}).get("last_success")
    return float(value) if isinstance(value, (int, float)) else None


def now() -> float:
    return time.time()
