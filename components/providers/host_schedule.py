"""``HostSchedule``: one cron.d file on the host (``/etc/cron.d/togather-<stack>``), owned by the stack.

The text comes from ``togather_deploy.render.schedule.render_cron`` (backup jobs now, HTTPS
certificate renewal later: one scheduler for the stack).

Guarantees:
- ``check``/``diff`` are pure (they run in preview): the path must be absolute with a file
  name cron accepts (``[A-Za-z0-9_-]``, no dot), the text must end with a newline; the diff
  compares SHA-256 digests (the state records no text).
- ``create``/``update`` write the file with ``hostfs.atomic`` (temp file in the same
  directory, fsync, rename) with mode 0644, owned by root:root when run as root — cron ignores a cron.d file
  that is group/other-writable or, for root, not owned by root. Writing the same text again
  changes nothing; an interrupted write leaves the old file or the new one, never half.
  A missing directory is an error naming the package to install (``cron``).
- ``read`` (a refresh targeted at this resource) reads only: the recorded digest becomes
  that of the file cron would read now, "" when it is absent, not a regular file, or not
  mode 0644 (cron ignores a group/other-writable one), so the next ``diff`` sees it and
  ``update`` writes it again. Without it, a cron.d file lost to a cleanup stopped the backups silently.
- ``delete`` removes only that file (``pulumi destroy``): never the snapshots, the repository
  or anything else in the directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from components.providers import inputs as provider_inputs
from components.providers.failures import operator_errors
from togather_deploy.errors import DeployError
from togather_deploy.hostfs.atomic import atomic_write
from togather_deploy.hostfs.config_dir import on_host

MODE = 0o644
_CRON_NAME = re.compile(r"[A-Za-z0-9_-]+")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class HostScheduleInputs:
    path: str
    """Absolute path of the cron.d file (``/etc/cron.d/togather-production``)."""
    text: str


def _failures(news: Mapping[str, Any]) -> list[CheckFailure]:
    failures = provider_inputs.check_failures(HostScheduleInputs, news)
    if failures:
        return failures
    i = provider_inputs.parse(HostScheduleInputs, news)
    if not provider_inputs.is_unknown(i.path) and (
            not os.path.isabs(i.path) or not _CRON_NAME.fullmatch(os.path.basename(i.path))):
        failures.append(CheckFailure("path", f"must be an absolute path whose file name cron reads "
                                             f"([A-Za-z0-9_-], no dot), got {i.path!r}"))
    if not provider_inputs.is_unknown(i.text) and not i.text.endswith("\n"):
        failures.append(CheckFailure("text", "must end with a newline (cron ignores an unterminated line)"))
    return failures


def write(path: str, text: str) -> None:
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise DeployError(f"{directory} does not exist: is cron installed?", file=path,
                          fix="apt-get install cron  (then pulumi up again)")
    try:
        # Created by root (pulumi up runs as root) hence owned by root:root, as cron demands.
        atomic_write(path, text, mode=MODE)
    except PermissionError as exc:
        raise DeployError(f"cannot write {path}", file=path, cause=exc,
                          fix="run `pulumi up` as root (cron.d belongs to root)") from None


@operator_errors
class HostScheduleProvider(ResourceProvider):
    """Inputs: ``HostScheduleInputs``. Outputs: ``path`` and ``digest`` (not the text)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = _failures(news)
        if failures:
            return CheckResult(news, failures)
        return CheckResult(provider_inputs.props(provider_inputs.parse(HostScheduleInputs, news)), [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        new = provider_inputs.parse(HostScheduleInputs, news)
        changes = []
        if provider_inputs.is_unknown(new.path) or olds.get("path") != new.path:
            changes.append("path")
        if provider_inputs.is_unknown(new.text) or olds.get("digest") != digest(new.text):
            changes.append("text")
        return DiffResult(changes=bool(changes), replaces=["path"] if "path" in changes else [],
                          delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        i = provider_inputs.parse(HostScheduleInputs, props)
        write(i.path, i.text)
        return CreateResult(i.path, {"path": i.path, "digest": digest(i.text)})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        i = provider_inputs.parse(HostScheduleInputs, news)
        write(i.path, i.text)
        return UpdateResult({"path": i.path, "digest": digest(i.text)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        path = props.get("path")
        if not isinstance(path, str) or "digest" not in props:
            return ReadResult(id_, props)
        # cron skips a cron.d file that is a link or group/other-writable; any other mode than
        # ours is written again too
        here = on_host(os.path.dirname(path), os.path.basename(path), MODE)
        return ReadResult(id_, {**props, "digest": here})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(str(props["path"]))


class HostSchedule(pulumi.dynamic.Resource):
    path: pulumi.Output[str]
    digest: pulumi.Output[str]

    def __init__(self, name: str, *, path: str, text: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(HostScheduleProvider(), name, {"path": path, "text": text, "digest": None}, opts)
