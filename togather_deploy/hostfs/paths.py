"""The tool's directories and files on the host: created safely, never someone else's.

Used by everything that creates or writes under the state and snapshot
directories (``HostDirs``, the lock, the audit log, the deploy metrics, the
pulumi output logs, snapshots). Guarantees:

- ``ensure_dir`` creates a missing directory with exactly its mode (``mkdir``,
  then ``fchmod`` on the directory it just made). A directory that already
  exists is never chmod-ed: it is *checked* (``check_dir``) and refused unless it
  is owned by the running user and not writable by group or others. So a
  setting pointing at ``/tmp`` or a home directory fails with the fix instead of
  narrowing (or widening) a directory the tool does not own.
- A symlink in place of one of these directories is followed only when root or
  the running user owns the link (an operator's own relocation); a link planted
  by another user is refused.
- ``open_file`` never follows a symlink at the file itself (``O_NOFOLLOW``) and
  never leaks the descriptor into child processes (``O_CLOEXEC``).

``python -m togather_deploy.hostfs.paths MODE:DIR ...`` is what the ``HostDirs``
command runs: the same code as the scripts. Exit 10 with the reason on stderr.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Sequence

from togather_deploy.errors import EXIT_CONFIG, ConfigError

_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def _user() -> str:
    return "root" if os.geteuid() == 0 else f"uid {os.geteuid()}"


def _refuse(path: str, why: str, fix: str) -> ConfigError:
    return ConfigError(f"{path}: {why}; the tool only uses a directory of its own", file=path,
                       fix=fix)


def check_dir(path: str) -> None:
    """``ConfigError`` unless ``path`` is a directory the running user owns, not group/other
    writable (a symlink to one only when root or the running user owns the link)."""
    me = os.geteuid()
    try:
        link = os.lstat(path)
        st = os.stat(path)
    except OSError as exc:
        raise _refuse(path, f"cannot be inspected ({exc.strerror})",
                      "create it as the deploying user, mode 0700") from None
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (0, me):
        raise _refuse(path, f"is a symlink owned by uid {link.st_uid}, not by root or {_user()}",
                      f"remove the link (rm {path}) and let the tool create the directory")
    if not stat.S_ISDIR(st.st_mode):
        raise _refuse(path, "exists and is not a directory", f"move it away (mv {path} {path}.old)")
    if st.st_uid != me:
        raise _refuse(path, f"is owned by uid {st.st_uid}, not by {_user()} who runs the tool",
                      f"chown {me} {path} if it is the tool's, or choose another directory "
                      "(togather:stateDir, togather:snapshots.dir)")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise _refuse(path, f"is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})",
                      f"chmod go-w {path}, or choose another directory (togather:stateDir, "
                      "togather:snapshots.dir)")


def make_dirs(path: str, mode: int = 0o755) -> None:
    """``mkdir -p -m MODE``: each directory it creates gets exactly ``mode``, whatever the
    umask (an operator's ``umask 077`` made ``os.makedirs(..., 0o755)`` give 0700, and nginx's
    workers could not read the router's files). Existing directories are left as they are."""
    missing: list[str] = []
    here = os.path.abspath(path)
    while not os.path.isdir(here):
        missing.append(here)
        here = os.path.dirname(here)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue  # made meanwhile by someone else: theirs, not chmod-ed
        os.chmod(directory, mode)


def ensure_dir(path: str, mode: int) -> None:
    """Create ``path`` with ``mode`` if missing (parents as ``mkdir -p`` would); else ``check_dir``."""
    parent = os.path.dirname(path.rstrip("/")) or "/"
    make_dirs(parent, 0o755)  # parents: the usual 0755, like install -d
    try:
        os.mkdir(path, 0o700)  # never wider than private while it is being set up
    except FileExistsError:
        check_dir(path)
        return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
    try:
        os.fchmod(fd, mode)  # the one chmod: on the directory we have just made
    finally:
        os.close(fd)


def open_file(path: str, flags: int, mode: int = 0o600) -> int:
    """``os.open`` that refuses a symlink at ``path`` with a clear error (and ``O_CLOEXEC``)."""
    try:
        return os.open(path, flags | _NOFOLLOW, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(path, "is a symlink; the tool never writes through one",
                          f"remove it (rm {path}); the tool recreates the file") from None
        raise


def main(argv: Sequence[str]) -> int:
    """``MODE:DIR ...`` (parents first): ``ensure_dir`` each; exit 10 with the reason."""
    try:
        for arg in argv:
            mode, _, path = arg.partition(":")
            ensure_dir(path, int(mode, 8))
    except ConfigError as exc:
        print(f"[togather:config] {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
