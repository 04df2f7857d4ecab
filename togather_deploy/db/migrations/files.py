"""The migrations directory, golang-migrate layout, parsed and validated once.

Files are named ``<version>_<title>.(up|down).sql`` (``000050_add_x.up.sql``).
``read_migrations`` reads a directory; ``parse_migrations`` validates the same
thing from a name → text mapping, so the program, the provider and the CLI
share one set of rules. Any problem (a bad name, two files for one version, a
down without an up, an unreadable file) is a ``ConfigError`` naming the file.

``.down.sql`` files are read and validated but never run: releases are forward
only, because the old colour keeps serving on the schema while a rollback
happens by switching traffic back, never by undoing the schema.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from togather_deploy.errors import ConfigError

NAME_RE = re.compile(r"^([0-9]+)_(.*)\.(up|down)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One forward migration (its ``.up.sql`` file) and the facts about it."""

    version: int
    title: str
    up_name: str
    up_sql: str
    down_name: str | None

    @property
    def name(self) -> str:
        """``000050_add_x``: the file name without ``.up.sql``."""
        return self.up_name[: -len(".up.sql")]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_directory(directory: str) -> dict[str, str]:
    """Name → text of every ``*.sql`` file in ``directory`` (read-only, nothing else)."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        raise ConfigError("migrations directory does not exist", file=directory, key="migrations.dir",
                          fix="set togather:migrations.dir to the server's migrations directory") from None
    except OSError as exc:
        raise ConfigError("migrations directory cannot be read", file=directory, cause=exc,
                          key="migrations.dir") from None
    texts: dict[str, str] = {}
    for name in names:
        path = os.path.join(directory, name)
        if not name.endswith(".sql") or not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                texts[name] = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name}: migration file cannot be read", file=path, cause=exc,
                              fix="make the file readable UTF-8 text (chmod a+r)") from None
    return texts


def parse_migrations(texts: Mapping[str, str], directory: str = "") -> list[Migration]:
    """Validate file names and pairing; return the forward migrations by version."""
    ups: dict[int, str] = {}
    downs: dict[int, str] = {}
    for name in sorted(texts):
        path = os.path.join(directory, name) if directory else name
        match = NAME_RE.match(name)
        if match is None:
            raise ConfigError(f"{name}: not a migration file name", file=path,
                              fix="rename it to NNNNNN_title.up.sql / NNNNNN_title.down.sql")
        version, kind = int(match.group(1)), match.group(3)
        seen = ups if kind == "up" else downs
        if version in seen:
            raise ConfigError(f"{name}: version {version} is used twice (also by {seen[version]})",
                              file=path, fix="give each migration its own version number")
        seen[version] = name
    for version, name in sorted(downs.items()):
        if version not in ups:
            raise ConfigError(f"{name}: a down migration without an up migration", file=name,
                              fix=f"add the matching {name[:-len('.down.sql')]}.up.sql or remove it")
    out = []
    for version, name in sorted(ups.items()):
        match = NAME_RE.match(name)
        assert match is not None
        out.append(Migration(version=version, title=match.group(2), up_name=name,
                             up_sql=texts[name], down_name=downs.get(version)))
    return out


def load_migrations(directory: str) -> list[Migration]:
    """Read and validate a migrations directory."""
    return parse_migrations(read_directory(directory), directory)


def fingerprint(texts: Mapping[str, str]) -> dict[str, str]:
    """File name → sha256 of its text: what the resources compare to decide a re-run."""
    return {name: sha256_text(text) for name, text in sorted(texts.items())}


def describe_changes(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """``+000050_add_x, ~000049_y, -000048_z`` for up files (why a re-run happens)."""
    parts = []
    for name in sorted(set(old) | set(new)):
        if not name.endswith(".up.sql"):
            continue
        short = name[: -len(".up.sql")]
        if name not in old:
            parts.append(f"+{short}")
        elif name not in new:
            parts.append(f"-{short}")
        elif old[name] != new[name]:
            parts.append(f"~{short}")
    return ", ".join(parts)


def pending_names(names: Mapping[str, str] | list[str], applied_version: int | None) -> list[str]:
    """Up-file names (without ``.up.sql``) whose version is above ``applied_version``."""
    out = []
    for name in sorted(names):
        match = NAME_RE.match(name)
        if match and match.group(3) == "up" and (applied_version is None
                                                  or int(match.group(1)) > applied_version):
            out.append(name[: -len(".up.sql")])
    return out
