"""Off-host copies with restic: what goes up, retention on the repository, check, fetch.

``copy`` puts, in one restic snapshot tagged ``togather`` and ``stack=<stack>``: the whole
snapshot directory (every ``.sql.gz`` and its ``.meta.json``; partial files excluded), the
stack files (``Pulumi.yaml``, ``Pulumi.<stack>.yaml``) and, when the Pulumi backend is a local
``file://`` one, its ``.pulumi`` directory (the state). It creates the repository on first use,
then applies ``keepDaily/Weekly/Monthly`` (``forget --prune``). Nothing here deletes a local
file: the local snapshots follow ``snapshots.retentionDays`` (``scripts/snapshot prune``).

``fetch`` brings one snapshot (and its meta) back from the newest repository snapshot that
holds it, verifies the checksum against the meta, and only then gives it its name.
Every failure is a ``DeployError`` whose text never carries the repository URL's password or
a credential (restic's stderr is redacted by value).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from togather_deploy.commands import restic
from togather_deploy.commands.runner import Argv, Result, run, spawn
from togather_deploy.config.model import DeployConfig
from togather_deploy.db.snapshots import store
from togather_deploy.errors import ConfigError, DeployError, SnapshotError
from togather_deploy.ops import audit
from togather_deploy.ops import backup_files as files

TIMEOUT_S = 6 * 3600.0
"""A stuck upload must end before the next day's run (restic retries a dead server ~15 min)."""
NO_REPO = ("Is there a repository at the following location?", "unable to open config file")


def repo_for(cfg: DeployConfig, *, password_file: str | None = None,
             env: Mapping[str, str] | None = None) -> restic.Repo:
    """The repository of ``cfg``; the password from ``password_file``, ``$RESTIC_PASSWORD_FILE``
    or ``<stateDir>/backup/password`` (written by ``pulumi up``)."""
    b = cfg.backup
    if b is None:
        raise ConfigError("togather:backup.repository is not set: this stack has no off-host backup",
                          key="backup.repository",
                          fix=f"pulumi config set --path togather:backup.repository REPO --stack {cfg.stack}")
    env = os.environ if env is None else env
    pw = password_file or env.get("RESTIC_PASSWORD_FILE") or files.password_path(cfg.state_dir)
    if not os.path.isfile(pw):
        raise ConfigError("no restic password file", file=pw,
                          fix=f"run `pulumi up --stack {cfg.stack}` (it writes it from "
                              "togather:backup.password), or pass --password-file FILE (mode 0600)")
    creds = dict(b.credentials) or files.read_credentials(cfg.state_dir)
    return restic.Repo(b.repository, pw, creds, files.cache_dir(cfg.state_dir), cfg.stack)


def _secrets(repo: restic.Repo) -> list[str]:
    return [repo.repository, *repo.credentials.values()]


def call(repo: restic.Repo, argv: Argv, *, what: str, timeout: float = TIMEOUT_S,
         check: bool = True) -> Result:
    """Run restic with the repository's environment; a failure names ``what`` and the reason."""
    result = run(argv, env=restic.environment(repo), timeout=timeout, check=False, what=what)
    if check and not result.ok:
        raise DeployError(f"{what} failed (restic exit code {result.returncode})",
                          context={"stderr": redact(repo, result.stderr.strip()[-1500:])},
                          fix="is the repository reachable (network, credentials)? "
                              "`scripts/backup check --stack STACK` tells")
    return result


def redact(repo: restic.Repo, text: str) -> str:
    return audit.redact_text(text, _secrets(repo))


def ensure_repo(repo: restic.Repo) -> bool:
    """Open the repository, creating it when there is none yet; True when it was created."""
    probe = call(repo, restic.cat_config_argv(), what="opening the restic repository", timeout=600,
                 check=False)
    if probe.ok:
        return False
    if "wrong password" in probe.stderr:
        raise ConfigError("the restic repository exists but the password does not open it",
                          key="backup.password",
                          fix="set the repository's password: pulumi config set --secret --path "
                              "togather:backup.password VALUE, then pulumi up")
    if not any(marker in probe.stderr for marker in NO_REPO):
        call(repo, restic.cat_config_argv(), what="opening the restic repository", timeout=600)
    call(repo, restic.init_argv(), what="creating the restic repository", timeout=600)
    return True


def state_backend_dir(env: Mapping[str, str], home: str) -> str | None:
    """The ``.pulumi`` directory of a local file backend, ``None`` for any other backend."""
    url = env.get("PULUMI_BACKEND_URL")
    if not url:
        try:
            with open(os.path.join(home, ".pulumi", "credentials.json"), encoding="utf-8") as fh:
                url = json.load(fh).get("current")
        except (OSError, ValueError, AttributeError):
            return None
    if not isinstance(url, str) or not url.startswith("file://"):
        return None
    root = os.path.expanduser(url[len("file://"):].split("?", 1)[0]) or "/"
    path = os.path.join(root, ".pulumi")
    return path if os.path.isdir(path) else None


def copy_paths(cfg: DeployConfig, project_dir: str, env: Mapping[str, str]) -> list[str]:
    paths = [cfg.snapshots.dir]
    for name in ("Pulumi.yaml", f"Pulumi.{cfg.stack}.yaml"):
        path = os.path.join(project_dir, name)
        if os.path.isfile(path):
            paths.append(path)
    state = state_backend_dir(env, env.get("HOME", os.path.expanduser("~")))
    if state:
        paths.append(state)
    return paths


@dataclass(frozen=True)
class Copied:
    snapshot_id: str
    bytes_added: int
    bytes_processed: int
    files_new: int
    files_changed: int
    duration_s: float
    created_repository: bool
    paths: tuple[str, ...]


def copy(cfg: DeployConfig, repo: restic.Repo, project_dir: str, *,
         env: Mapping[str, str] | None = None, timeout: float = TIMEOUT_S) -> Copied:
    """Upload (see module docstring), then apply the repository's retention."""
    env = os.environ if env is None else env
    files.ensure_dirs(cfg.state_dir)
    created = ensure_repo(repo)
    # A run killed mid-upload (timeout, server gone) leaves its lock: restic 0.14 then refuses
    # forget's exclusive lock until someone unlocks. `unlock` removes only stale locks.
    call(repo, restic.unlock_argv(), what="removing stale restic locks", timeout=600, check=False)
    paths = copy_paths(cfg, project_dir, env)
    started = time.perf_counter()
    argv = restic.backup_argv(repo, paths, host=socket.gethostname(),
                              excludes=(".*.partial-*", ".*.tmp"))
    result = call(repo, argv, what="uploading to the restic repository", timeout=timeout)
    summary = _summary(result.stdout)
    b = cfg.backup
    assert b is not None  # repo_for checked
    call(repo, restic.forget_argv(repo, daily=b.keep_daily, weekly=b.keep_weekly, monthly=b.keep_monthly),
         what="applying the repository's retention (forget --prune)", timeout=timeout)
    return Copied(snapshot_id=str(summary.get("snapshot_id", "")),
                  bytes_added=int(summary.get("data_added", 0)),
                  bytes_processed=int(summary.get("total_bytes_processed", 0)),
                  files_new=int(summary.get("files_new", 0)),
                  files_changed=int(summary.get("files_changed", 0)),
                  duration_s=round(time.perf_counter() - started, 3),
                  created_repository=created, paths=tuple(paths))


def _summary(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.splitlines()):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("message_type") == "summary":
            return obj
    raise DeployError("restic backup printed no summary", context={"stdout": stdout[-500:]})


def snapshots(repo: restic.Repo) -> list[dict[str, Any]]:
    """The stack's repository snapshots, oldest first."""
    out = call(repo, restic.snapshots_argv(repo), what="listing the restic snapshots", timeout=600)
    data = json.loads(out.stdout or "[]")
    return sorted(data or [], key=lambda s: s.get("time", ""))


def find(repo: restic.Repo, pattern: str) -> list[tuple[str, str]]:
    """``(restic snapshot id, path)`` of every file matching ``pattern``, oldest snapshot first."""
    out = call(repo, restic.find_argv(repo, pattern), what=f"searching the repository for {pattern}",
               timeout=600)
    found: list[tuple[str, str]] = []
    by_time = {s["id"]: s.get("time", "") for s in snapshots(repo)}
    for entry in sorted(json.loads(out.stdout or "[]") or [], key=lambda e: by_time.get(e["snapshot"], "")):
        found += [(entry["snapshot"], m["path"]) for m in entry.get("matches", []) if m.get("type") == "file"]
    return found


def fetch(repo: restic.Repo, name: str, directory: str) -> store.SnapshotInfo:
    """Snapshot ``name`` and its meta from the newest repository snapshot holding them into
    ``directory``; verified against the meta's sha256 before it gets its name."""
    hits = [h for h in find(repo, os.path.basename(name)) if os.path.basename(h[1]) == os.path.basename(name)]
    if not hits:
        raise SnapshotError(f"{os.path.basename(name)} is in no repository snapshot", exit_code=10,
                            fix="scripts/backup list --stack STACK  (the names the repository holds)")
    snap_id, path = hits[-1]
    final = os.path.join(directory, os.path.basename(path))
    meta_final = store.meta_path(final)
    partial, meta_partial = final + ".partial-fetch", meta_final + ".partial-fetch"
    try:
        _dump(repo, snap_id, store.meta_path(path), meta_partial)
        _dump(repo, snap_id, path, partial)
        with open(meta_partial, encoding="utf-8") as fh:
            expected = json.load(fh).get("sha256")
        store.verify_file(partial, expected if isinstance(expected, str) else None)
        os.replace(meta_partial, meta_final)
        os.replace(partial, final)
    finally:
        for leftover in (partial, meta_partial):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return store.find_snapshot(directory, os.path.basename(final))


def _dump(repo: restic.Repo, snap_id: str, path: str, dest: str, timeout: float = TIMEOUT_S) -> None:
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        proc = spawn(restic.dump_argv(snap_id, path), env=restic.environment(repo), stdout=fd)
        _out, err = proc.communicate(timeout=timeout)
    finally:
        os.close(fd)
    if proc.returncode != 0:
        raise SnapshotError(f"cannot fetch {os.path.basename(path)} from the repository "
                            f"(restic exit code {proc.returncode})",
                            context={"stderr": redact(repo, err.decode("utf-8", "replace").strip()[-1500:])},
                            fix="`scripts/backup check --stack STACK` checks the repository")


def check(repo: restic.Repo, read_data_subset: str | None = None) -> str:
    out = call(repo, restic.check_argv(read_data_subset), what="restic check", timeout=TIMEOUT_S)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "no errors were found"


def newest_in_repo(repo: restic.Repo, database: str | None = None) -> tuple[str, str] | None:
    """The newest snapshot file in the newest repository snapshot: ``(name, restic id)``."""
    hits = find(repo, "*" + store.SUFFIX)
    if not hits:
        return None
    last_id = hits[-1][0]
    names: Sequence[str] = [os.path.basename(p) for i, p in hits if i == last_id]
    parsed = [(store.parse_name(n), n) for n in names]
    good = [(p[1], n) for p, n in parsed if p is not None and (database is None or p[0] == database)]
    return (max(good)[1], last_id) if good else None
