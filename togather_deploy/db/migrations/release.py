"""Which release a migrations directory belongs to, so a deploy never runs another one's.

The documented copy step (README, docs/operations.md, ``migrations/README.md``) copies the
server's ``internal/storage/postgres/migrations/*.sql`` at tag V and writes V into
``<migrations.dir>/VERSION``. ``scripts/deploy STACK V`` calls ``check_release`` before it
takes the lock or changes anything:

- the directory holds no ``*.sql``: nothing can run, nothing to check;
- ``VERSION`` says V: go ahead;
- ``VERSION`` says another release, or is unreadable: refused;
- ``VERSION`` is missing: refused, except for ``development``/``test`` stacks (the bundled
  demo app's migrations belong to no release tag).

A refusal is a ``ConfigError`` (exit 10), not a ``MigrationError`` (5): nothing ran and the
database is untouched; the fix is to copy the right files, and 5 keeps meaning "a migration
ran and failed: look at the database". Pure reads of one small file; no writes.
"""

from __future__ import annotations

import os
import re

from togather_deploy.config.sections import VERSION_PATTERN
from togather_deploy.errors import ConfigError

VERSION_FILE = "VERSION"
RELEASE_OPTIONAL_IN = ("development", "test")


def copy_step(directory: str, version: str) -> str:
    """The commands that make ``directory`` belong to ``version`` (shown in every refusal)."""
    return (f"copy the server's migrations at {version} and record it: "
            f"cp SERVER@{version}/internal/storage/postgres/migrations/*.sql {directory}/ && "
            f"echo {version} > {directory}/{VERSION_FILE} (docs/operations.md, section 5)")


def has_sql(directory: str) -> bool:
    try:
        return any(name.endswith(".sql") for name in os.listdir(directory))
    except OSError:
        return False  # a missing directory is the Migrations resource's error to report


def recorded_version(directory: str) -> str | None:
    """The release ``VERSION`` names; ``None`` when there is no such file."""
    path = os.path.join(directory, VERSION_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(256).strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("migrations VERSION file cannot be read", file=path, cause=exc,
                          fix="make it a readable one-line text file with the release tag") from None
    if not re.fullmatch(VERSION_PATTERN, text):
        raise ConfigError(f"migrations VERSION file does not hold a release tag: {text[:40]!r}",
                          file=path, fix="write the tag alone, e.g. `echo v1.5.0 > VERSION`")
    return text


def check_release(directory: str, version: str, *, environment: str) -> None:
    """Raise ``ConfigError`` unless ``directory``'s migrations belong to ``version``."""
    if not has_sql(directory):
        return
    recorded = recorded_version(directory)
    path = os.path.join(directory, VERSION_FILE)
    if recorded is None:
        if environment in RELEASE_OPTIONAL_IN:
            return
        raise ConfigError(f"the migrations in {directory} do not say which release they belong to "
                          f"(no {VERSION_FILE} file); refusing to deploy {version} with them",
                          file=path, key="migrations.dir", fix=copy_step(directory, version))
    if recorded != version:
        raise ConfigError(f"the migrations in {directory} belong to {recorded}, not to {version}: "
                          "deploying would run another release's schema changes",
                          file=path, key="migrations.dir", fix=copy_step(directory, version))
