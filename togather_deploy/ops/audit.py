"""The deployment audit log: ``<state_dir>/audit.log``, one JSON object per line.

Events are ``deployment.started|completed|failed|rolled_back`` (and
``rollback.*`` for ``scripts/rollback``) with the version, colours, stage
durations, migrations applied and snapshot path. Guarantees:

- The directory is 0700 and the file 0600, created that way (never widened later); a state
  directory that is not the tool's own, or a symlink at ``audit.log``, is refused
  (``togather_deploy.hostfs.paths``).
- Every event passes through ``redact`` first: passwords in URLs, webhook URLs'
  credential path segments, ``NAME=value`` and ``?name=value`` with a secret-looking
  name, values under keys that look secret (``*password*``, ``*secret*``,
  ``*token*``, the word ``key``/``auth``: ``csrfKey`` but not ``monkey``) and every
  known secret value (the stack's secret config) are replaced.
- One ``write`` of one line with ``O_APPEND``: concurrent writers never interleave
  within a line; a reader skips a torn or foreign line instead of failing.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from togather_deploy.config.layout import StateLayout
from togather_deploy.config.model import DeployConfig
from togather_deploy.hostfs import paths as host_paths

REDACTED = "[redacted]"
EVENTS = ("deployment.started", "deployment.completed", "deployment.failed",
          "deployment.rolled_back", "rollback.started", "rollback.completed", "rollback.failed",
          "rollback.rolled_back", "maintenance.on", "maintenance.off", "exec.run",
          "backup.job_succeeded", "backup.job_failed")
# A name is secret when it contains one of these (``PGPASSWORD``, ``api_token``)...
_SECRET_FRAGMENT = re.compile(r"passw(?:or)?d|passphrase|secret|token|credential|apikey|privatekey"
                              r"|authorization", re.IGNORECASE)
# ...or has one of these as a whole word (``csrfKey``, ``CSRF_KEY``, ``?auth=``; not ``monkey``).
_SECRET_WORDS = frozenset({"key", "keys", "auth", "dsn", "pass", "pw", "pwd", "sig", "signature"})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_SCHEME = r"[A-Za-z][A-Za-z0-9+.-]*://"
# scheme://user:password@host -> the password part only; it may hold "/" or "@" (up to the last "@")
_URL_PASSWORD = re.compile(rf"(?P<head>{_SCHEME}[^\s/:@\"'<>]*:)(?P<pw>[^\s\"'<>]+)(?=@)")
# NAME=value in text (PGPASSWORD=..., libpq's password='...', ?auth=..., --env JWT_SECRET=...)
_ASSIGNMENT = re.compile(r"(?P<head>(?<![\w.-])(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)=)"
                         r"(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&#'\"<>]+)")
_HTTP_URL = re.compile(r"https?://[^\s\"'<>]+")
_URL_PARTS = re.compile(r"(?P<base>https?://[^/?#]*)(?P<path>[^?#]*)(?P<tail>.*)", re.DOTALL)
# a path segment that is a credential by its looks (Slack/Discord webhook tokens)
_TOKEN_SEGMENT = re.compile(r"(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}")
_MIN_SECRET_LEN = 4  # shorter "secrets" would shred ordinary text; config demands >= 32 anyway


def audit_path(state_dir: str) -> str:
    return StateLayout(state_dir).audit_log


def secret_values(cfg: DeployConfig) -> tuple[str, ...]:
    """Every secret the stack config carries (the plain-file reader has none, the engine may)."""
    s = cfg.secrets
    values = [s.jwt_secret, s.csrf_key, s.database_password, s.grafana_admin_password,
              *s.app_secrets.values()]
    return tuple(v for v in values if v and len(v) >= _MIN_SECRET_LEN)


def secret_name(name: str) -> bool:
    """Does a key or variable named ``name`` hold a secret?"""
    if _SECRET_FRAGMENT.search(name.replace("_", "").replace("-", "")):
        return True
    return any(w.lower() in _SECRET_WORDS for w in _WORD.findall(name))


def _assignment(m: re.Match[str]) -> str:
    return m.group("head") + REDACTED if secret_name(m.group("name")) else m.group(0)


def _webhook_path(m: re.Match[str]) -> str:
    """A webhook URL's path segments after the ``*hook*`` one (Slack: after ``/services``) are
    its credential; elsewhere, token-looking segments are."""
    parts = _URL_PARTS.match(m.group(0))
    if parts is None:
        return m.group(0)
    base, path, tail = parts.group("base", "path", "tail")
    segments = path.split("/")
    hooks = [i for i, seg in enumerate(segments) if "hook" in seg.lower()]
    start = hooks[0] + 1 if hooks else (2 if "hook" in base.lower() else len(segments))
    segments = [REDACTED if (i >= start and seg) or _TOKEN_SEGMENT.fullmatch(seg) else seg
                for i, seg in enumerate(segments)]
    return base + "/".join(segments) + tail


def redact_text(text: str, secrets: Sequence[str] = ()) -> str:
    out = text
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_SECRET_LEN:
            out = out.replace(secret, REDACTED)
    out = _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, out)
    out = _ASSIGNMENT.sub(_assignment, out)
    return _HTTP_URL.sub(_webhook_path, out)


def redact(value: Any, secrets: Sequence[str] = ()) -> Any:
    """A copy of ``value`` that is safe to write anywhere."""
    if isinstance(value, Mapping):
        return {str(k): (REDACTED if secret_name(str(k)) and v not in (None, "")
                         else redact(v, secrets)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value


def make_event(kind: str, *, stack: str, version: str | None, from_color: str | None,
               to_color: str | None, stages: Mapping[str, float] | None = None,
               migrations: Iterable[str] = (), snapshot: str | None = None,
               error: str | None = None, exit_code: int | None = None,
               clock: Callable[[], float] = time.time, **extra: Any) -> dict[str, Any]:
    if kind not in EVENTS:
        raise ValueError(f"unknown audit event {kind!r}")
    now = clock()
    event: dict[str, Any] = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "unix": round(now, 3),
        "event": kind, "stack": stack, "version": version,
        "from_color": from_color, "to_color": to_color,
        "stages": {k: round(v, 3) for k, v in (stages or {}).items()},
        "migrations_applied": list(migrations), "snapshot": snapshot,
    }
    if error is not None:
        event["error"] = error
    if exit_code is not None:
        event["exit_code"] = exit_code
    event.update(extra)
    return event


def append(state_dir: str, event: Mapping[str, Any], *, secrets: Sequence[str] = ()) -> str:
    """Redact ``event`` and append it as one line; returns the log's path."""
    host_paths.ensure_dir(state_dir, 0o700)  # the tool's own, or a clear error
    path = audit_path(state_dir)
    line = json.dumps(redact(event, secrets), sort_keys=True, default=str) + "\n"
    fd = host_paths.open_file(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_events(state_dir: str, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The log's events, oldest first (the last ``limit`` when given)."""
    try:
        with open(audit_path(state_dir), encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return []
    events = []
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("event"), str):
            events.append(obj)
    return events[-limit:] if limit else events
