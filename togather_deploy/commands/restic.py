"""restic as data: the argv of every restic call, and the environment that carries the secrets.

The repository location, the password and the backend credentials never appear in argv
(``ps`` shows argv to every local user): ``environment`` puts the repository in
``RESTIC_REPOSITORY`` (a ``rest:`` URL may hold a user:password), the password behind
``RESTIC_PASSWORD_FILE`` (a 0600 file, see ``togather_deploy.ops.backup_files``) and the
credentials in their own variables. Every builder is pure; ``togather_deploy.commands.runner``
runs them. Tags make the repository shareable: ``togather`` and ``stack=<stack>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from togather_deploy.commands.runner import Argv

RESTIC = "restic"
TAG = "togather"


@dataclass(frozen=True)
class Repo:
    """Where and how to reach one repository."""

    repository: str = field(repr=False)
    password_file: str
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    cache_dir: str | None = None
    stack: str = "dev"

    @property
    def tags(self) -> tuple[str, ...]:
        return (TAG, f"stack={self.stack}")


def environment(repo: Repo) -> dict[str, str]:
    """The variables restic reads; the only channel for the secrets."""
    env = {**repo.credentials, "RESTIC_REPOSITORY": repo.repository,
           "RESTIC_PASSWORD_FILE": repo.password_file}
    if repo.cache_dir:
        env["RESTIC_CACHE_DIR"] = repo.cache_dir
    return env


def _tag_filter(repo: Repo) -> tuple[str, ...]:
    return ("--tag", ",".join(repo.tags))  # a comma joins: snapshots carrying all of them


def cat_config_argv() -> Argv:
    """Exit 0 when the repository exists and the password opens it."""
    return (RESTIC, "cat", "config", "--no-lock")


def init_argv() -> Argv:
    return (RESTIC, "init")


def backup_argv(repo: Repo, paths: Sequence[str], *, host: str, excludes: Sequence[str] = ()) -> Argv:
    if not paths or not all(p.startswith("/") for p in paths):
        raise ValueError("backup paths must be absolute")  # never read as a flag
    tags = [a for t in repo.tags for a in ("--tag", t)]
    exc = [a for e in excludes for a in ("--exclude", e)]
    return (RESTIC, "backup", "--json", "--host", host, *tags, *exc, *paths)


def snapshots_argv(repo: Repo) -> Argv:
    return (RESTIC, "snapshots", "--json", "--no-lock", *_tag_filter(repo))


def find_argv(repo: Repo, name: str) -> Argv:
    """Which repository snapshots hold a file called ``name`` (JSON)."""
    return (RESTIC, "find", "--json", "--no-lock", *_tag_filter(repo), "--", name)


def dump_argv(snapshot_id: str, path: str) -> Argv:
    """One file of a repository snapshot, to stdout."""
    return (RESTIC, "dump", "--no-lock", snapshot_id, path)


def restore_argv(snapshot_id: str, target: str, includes: Sequence[str] = ()) -> Argv:
    inc = [a for i in includes for a in ("--include", i)]
    return (RESTIC, "restore", snapshot_id, "--target", target, *inc)


def forget_argv(repo: Repo, *, daily: int, weekly: int, monthly: int) -> Argv:
    """Retention on the repository side, then ``--prune`` so the space comes back."""
    return (RESTIC, "forget", "--json", "--prune", *_tag_filter(repo), "--group-by", "host,tags",
            "--keep-daily", str(daily), "--keep-weekly", str(weekly), "--keep-monthly", str(monthly))


def check_argv(read_data_subset: str | None = None) -> Argv:
    """restic's own consistency check; ``read_data_subset`` (``1/10``) also reads pack data."""
    extra = (f"--read-data-subset={read_data_subset}",) if read_data_subset else ()
    return (RESTIC, "check", *extra)


def unlock_argv() -> Argv:
    """Remove stale locks a killed run left (restic's own, safe: only locks older than 30 min)."""
    return (RESTIC, "unlock")
