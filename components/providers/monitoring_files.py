"""``ConfigFiles``: a monitoring tool's config directory on the host, written atomically.

The directory is bind-mounted read-only into the tool's container (a directory,
not single files: a file mount pins the inode and would never see a rename).
After writing, the provider asks the running tool to re-read its config
(``POST /-/reload`` for Prometheus and Alertmanager), so a config change never
replaces the container. Grafana re-scans its dashboards by itself.

Guarantees:
- Inputs: ``ConfigFilesInputs`` (``components.providers.inputs``): the engine's
  float ``mode``/``group`` become ints again (``os.chown`` refuses a float gid).
- ``check``/``diff`` are pure: paths are validated, contents compared by SHA-256.
- ``create``/``update`` write every file atomically (temp file, fsync, rename;
  ``togather_deploy.hostfs.config_dir.write_files``); ``update`` also removes the files
  the previous version managed and this one does not. Writing the same files
  again changes nothing.
- Only ``update`` reloads: on ``create`` the tool's container does not exist yet
  (it depends on these files) and reads them when it starts; whatever else may
  listen on the loopback port then is not ours to poke. On ``update``, a tool
  that is not running (connection refused) is fine for the same reason; a tool
  that *rejects* the new config (HTTP error) fails the update with its answer,
  and keeps running the previous config.
- With a ``group`` (the container user's gid), files are 0640 and directories
  0750, owned by that group: a secret in them (an ntfy topic) is readable by the
  tool, not by other users of the host.
- ``read`` (a refresh targeted at the resource) records the SHA-256 of each managed file
  as it is on the host (``config_dir.on_host``: "" for a file that is gone, is not a
  regular file, lies through a link out of the directory, or lost its mode); it never
  writes. ``diff`` compares the recorded digests with the rendered files', so the next
  ``update`` writes a lost or hand-edited file again and reloads the tool.
- ``delete`` removes the managed files, never the directory's other contents.
- Recorded state: directory, mode, group, reload URL, a SHA-256 per file (not the
  contents, which may hold an ntfy topic), and ``generation``: how many times the files
  were written (1 on create, +1 per update), which a signal-reloaded tool triggers on, so
  that it also re-reads files an update restored to the same digests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
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
from togather_deploy.hostfs.config_dir import digests, on_host, remove_files, write_files

RELOAD_TIMEOUT_S = 10


def bad_path(rel: str) -> bool:
    parts = rel.split("/")
    return not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts)


def reload(url: str) -> bool:
    """POST ``url``; ``False`` when nothing listens (the tool reads its files on start)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=RELOAD_TIMEOUT_S):
            return True
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")[:1000]
        raise DeployError(f"the running tool rejected its new config ({exc.code})", cause=exc,
                          context={"reload": url, "answer": body},
                          fix="fix the rendered config (the tool keeps running the previous one)"
                          ) from None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@dataclass(frozen=True)
class ConfigFilesInputs:
    """The provider's inputs, as ``check`` validated them (``mode``/``group`` ints again)."""

    directory: str
    """Absolute host directory, bind-mounted read-only into the tool's container."""
    files: dict[str, str] = field(metadata=provider_inputs.SECRET)
    """Relative path → text (may hold an ntfy topic: never shown in an error)."""
    mode: int = 0o644
    group: int | None = None
    """The container user's gid: files 0640 and directories 0750 owned by it."""
    reload_url: str | None = None
    """``POST`` here after an update (Prometheus/Alertmanager ``/-/reload``)."""

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> ConfigFilesInputs:
        return provider_inputs.parse(cls, props)


def _failures(news: Mapping[str, Any]) -> list[CheckFailure]:
    failures = provider_inputs.check_failures(ConfigFilesInputs, news)
    if failures:
        return failures
    i = ConfigFilesInputs.from_props(news)
    if not provider_inputs.is_unknown(i.directory) and not os.path.isabs(i.directory):
        failures.append(CheckFailure("directory", f"must be an absolute path, got {i.directory!r}"))
    if provider_inputs.is_unknown(i.files):
        return failures
    if not i.files:
        failures.append(CheckFailure("files", "must map relative paths to text"))
    failures += [CheckFailure("files", f"{rel!r}: must be a relative path inside the directory")
                 for rel in i.files if bad_path(str(rel))]
    return failures


@operator_errors
class ConfigFilesProvider(ResourceProvider):
    """Inputs: ``ConfigFilesInputs``. Outputs: those but ``files``, plus ``digests``, ``reloaded``
    and ``generation``."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = _failures(news)
        if failures:
            return CheckResult(news, failures)
        return CheckResult(provider_inputs.props(ConfigFilesInputs.from_props(news)), [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        new = ConfigFilesInputs.from_props(news)
        # olds are the recorded outputs (no files, numbers as floats: 420.0 == 420)
        changes = [k for k in ("directory", "mode", "group", "reload_url") if olds.get(k) != getattr(new, k)]
        if provider_inputs.is_unknown(new.files) or olds.get("digests") != digests(new.files):
            changes.append("files")
        return DiffResult(changes=bool(changes),
                          replaces=["directory"] if "directory" in changes else [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        i = ConfigFilesInputs.from_props(props)
        write_files(i.directory, i.files, i.mode, i.group)
        return CreateResult(i.directory, self._outs(i, reloaded=False, generation=1))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        i = ConfigFilesInputs.from_props(news)
        write_files(i.directory, i.files, i.mode, i.group, olds.get("digests") or {})
        generation = int(olds.get("generation") or 0) + 1  # recorded as a float by the engine
        return UpdateResult(self._outs(i, reloaded=reload(i.reload_url) if i.reload_url else False,
                                       generation=generation))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        directory, recorded = props.get("directory"), props.get("digests")
        if not isinstance(directory, str) or not isinstance(recorded, dict):
            return ReadResult(id_, props)  # state from an older provider: nothing to compare
        mode = props.get("mode")
        mode = int(mode) if isinstance(mode, (int, float)) else None  # a float, from the engine
        return ReadResult(id_, {**props, "digests": {rel: on_host(directory, rel, mode) for rel in recorded}})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        remove_files(str(props["directory"]), props.get("digests") or {})

    @staticmethod
    def _outs(i: ConfigFilesInputs, *, reloaded: bool, generation: int) -> dict[str, Any]:
        return {"directory": i.directory, "mode": i.mode, "group": i.group, "reload_url": i.reload_url,
                "digests": digests(i.files), "reloaded": reloaded, "generation": generation}


class ConfigFiles(pulumi.dynamic.Resource):
    digests: pulumi.Output[dict[str, str]]
    generation: pulumi.Output[int]

    def __init__(self, name: str, *, directory: str, files: pulumi.Input[Mapping[str, str]],
                 mode: int = 0o644, group: int | None = None, reload_url: str | None = None,
                 secret: bool = False,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        body: Any = pulumi.Output.secret(files) if secret else files
        super().__init__(ConfigFilesProvider(), name,
                         {"directory": directory, "files": body, "mode": mode, "group": group,
                          "reload_url": reload_url, "digests": None, "reloaded": None,
                          "generation": None}, opts)
