"""``togather:backup``: off-host copies of the snapshots, the Pulumi state and the stack files.

Absent (or without ``repository``) means no off-host backup: ``DeployConfig.backup`` is ``None``.
Otherwise the section is validated here, once, like every other key:

    backup:
      repository: s3:https://s3.eu-central-003.backblazeb2.com/my-bucket/togather   # restic syntax
      password: <secret>          # pulumi config set --secret --path togather:backup.password
      credentials:                # each value a secret: backend variables restic reads
        AWS_ACCESS_KEY_ID: <secret>
        AWS_SECRET_ACCESS_KEY: <secret>
      time: "03:30"               # daily, host local time (cron); jitter added per stack
      keepDaily: 7
      keepWeekly: 4
      keepMonthly: 6
      verifyEvery: weekly         # restore drill cadence: daily | weekly | monthly | never
      requiredBeforeRelease: false

The password and every credential must be stored encrypted. An operator script reads the
stack file without the engine, so an encrypted value is absent there: ``password`` is then
``None`` and the key is listed in ``encrypted`` (the scheduled jobs read the 0600 files
``pulumi up`` wrote instead, see ``togather_deploy.ops.backup``). A plain-text secret is refused.
Pure: no disk, no network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from togather_deploy.config import fields as f
from togather_deploy.config.secrets import is_secret
from togather_deploy.errors import ConfigError

SCHEMES = ("s3", "b2", "sftp", "rest", "azure", "gs", "swift", "rclone")
"""restic's backend prefixes (``s3:…``); anything else must be an absolute or relative path."""
CADENCES = ("daily", "weekly", "monthly", "never")
# Variables togather-deploy sets itself for restic; a credential may not override them.
RESERVED = frozenset({"RESTIC_REPOSITORY", "RESTIC_REPOSITORY_FILE", "RESTIC_PASSWORD",
                      "RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND", "RESTIC_CACHE_DIR"})


@dataclass(frozen=True)
class BackupConfig:
    repository: str
    """A restic repository: ``s3:…``, ``b2:…``, ``sftp:…``, ``rest:…`` or an absolute local path."""
    password: str | None = field(repr=False)
    """``None`` when read from the stack file without the engine (it is encrypted there)."""
    credentials: Mapping[str, str] = field(repr=False)
    time: str
    """``HH:MM``, the host's local time of the daily backup."""
    keep_daily: int
    keep_weekly: int
    keep_monthly: int
    verify_every: str
    required_before_release: bool
    encrypted: frozenset[str] = frozenset()
    """Which of ``password`` / ``credentials.NAME`` the stack holds encrypted (dotted keys)."""

    @property
    def is_local(self) -> bool:
        """A path repository (tests, a mounted disk): not off-host by itself."""
        return self.repository.startswith("/")

    @property
    def hour_minute(self) -> tuple[int, int]:
        hour, minute = self.time.split(":")
        return int(hour), int(minute)


def read_backup(s: f.Section, project_dir: str, secret_keys: Collection[str]) -> BackupConfig | None:
    """The validated section, or ``None`` when no repository is configured."""
    repo_raw = f.optional_string(s.key("repository"), s.get("repository"))
    if repo_raw is None:
        for name in s.raw:
            s.get(name)
        # A password (or credentials) set first, the repository next: not configured yet, not wrong.
        if set(s.raw) - {"password", "credentials"}:
            raise ConfigError(f"{s.key('repository')}: is required once togather:backup has settings",
                              key=s.key("repository"),
                              fix="pulumi config set --path togather:backup.repository "
                                  "s3:https://HOST/BUCKET/togather (or remove togather:backup)")
        return None
    password = _secret(s, "password", secret_keys)
    credentials = _credentials(s, secret_keys)
    cfg = BackupConfig(
        repository=_repository(s.key("repository"), repo_raw, project_dir),
        password=password,
        credentials=credentials,
        time=f.string(s.key("time"), s.get("time"), "03:30", pattern=r"([01][0-9]|2[0-3]):[0-5][0-9]",
                      allowed="a local time of day HH:MM like 03:30"),
        keep_daily=f.integer(s.key("keepDaily"), s.get("keepDaily"), 7, minimum=1, maximum=3650),
        keep_weekly=f.integer(s.key("keepWeekly"), s.get("keepWeekly"), 4, minimum=0, maximum=520),
        keep_monthly=f.integer(s.key("keepMonthly"), s.get("keepMonthly"), 6, minimum=0, maximum=240),
        verify_every=f.choice(s.key("verifyEvery"), s.get("verifyEvery"), CADENCES, "weekly"),
        required_before_release=f.boolean(s.key("requiredBeforeRelease"),
                                          s.get("requiredBeforeRelease"), False),
        encrypted=frozenset(k for k in secret_keys if k.startswith(s.path + ".")),
    )
    # Only the stack file's encrypted leaf excuses a missing value (the engine would have it).
    if cfg.password is None and s.key("password") not in secret_keys:
        raise ConfigError(f"{s.key('password')}: is required (the restic repository's password)",
                          key=s.key("password"),
                          fix="pulumi config set --secret --path togather:backup.password "
                              "\"$(openssl rand -base64 32)\"  (and keep a copy off this server)")
    s.done()
    return cfg


def _secret(s: f.Section, name: str, secret_keys: Collection[str]) -> str | None:
    key = s.key(name)
    value = s.get(name)
    if not f.present(value):
        return None
    if not is_secret(key, secret_keys):
        raise ConfigError(f"{key}: is a secret but was stored in plain text", key=key,
                          fix=f"pulumi config set --secret --path togather:{key} VALUE")
    if not isinstance(value, str) or len(value) < 12:
        # Never echo the value: it is a secret even when it is a bad one.
        raise ConfigError(f"{key}: must be a string of at least 12 characters, got <secret>", key=key,
                          fix=f"pulumi config set --secret --path togather:{key} "
                              "\"$(openssl rand -base64 32)\"")
    return value


def _credentials(s: f.Section, secret_keys: Collection[str]) -> dict[str, str]:
    key = s.key("credentials")
    section = f.Section(key, s.get("credentials"))
    out: dict[str, str] = {}
    for name in section.raw:
        name_key = f"{key}.{name}"
        if not isinstance(name, str) or not re.fullmatch(f.ENV_NAME, name) or name in RESERVED:
            raise ConfigError(f"{name_key}: must be a backend variable such as AWS_ACCESS_KEY_ID "
                              f"or B2_ACCOUNT_KEY (not {', '.join(sorted(RESERVED))})", key=name_key,
                              fix=f"pulumi config rm --path togather:{name_key}")
        value = section.raw[name]
        if not is_secret(name_key, secret_keys):
            raise ConfigError(f"{name_key}: is a secret but was stored in plain text", key=name_key,
                              fix=f"pulumi config set --secret --path togather:{name_key} VALUE")
        if not isinstance(value, str) or not value or "\x00" in value:
            raise ConfigError(f"{name_key}: must be a non-empty string, got <secret>", key=name_key,
                              fix=f"pulumi config set --secret --path togather:{name_key} VALUE")
        out[name] = value
    return out


def _repository(key: str, value: str, project_dir: str) -> str:
    if any(c in value for c in "\n\r\x00") or value.startswith("-"):
        raise ConfigError(f"{key}: must be a restic repository, got {value!r}", key=key,
                          fix="pulumi config set --path togather:backup.repository s3:https://HOST/BUCKET/PATH")
    scheme = re.match(r"([a-z0-9]+):", value)
    if scheme and scheme.group(1) in SCHEMES:
        if len(value) <= len(scheme.group(0)):
            raise ConfigError(f"{key}: {value!r} names a backend but no location", key=key,
                              fix=f"pulumi config set --path togather:{key} {scheme.group(0)}LOCATION")
        return value
    if scheme:
        raise ConfigError(f"{key}: unknown restic backend {scheme.group(1)!r} in {value!r} "
                          f"(allowed: {', '.join(s + ':' for s in SCHEMES)} or a local path)", key=key,
                          fix="see docs/operations.md, \"Off-host backups\"")
    return os.path.abspath(os.path.join(project_dir, os.path.expanduser(value)))
