"""Validation of the config paths the tool creates and writes (``stateDir``, ``snapshots.dir``).

Pure (no disk access): it runs in ``pulumi preview``. A directory setting must
end up an absolute, normalised path of the tool's own:

- a relative value is resolved against the project directory (the one holding
  ``Pulumi.yaml``), never against the shell's current directory, so the dev
  stack's ``.state/dev`` means ``<project>/.state/dev`` whoever runs it;
- ``..`` is refused anywhere in the value (``../../..`` once resolved to ``/``),
  as are control characters;
- the result must not be a system directory itself (``/``, ``/tmp``, ``/root``,
  ``/home``, ``/var``, ``/etc``, ...) nor lie inside a kernel filesystem
  (``/proc``, ``/sys``, ``/dev``).

What the directory looks like on disk (owner, mode, symlinks) is checked when it
is created or written: ``togather_deploy.hostfs.paths``.
"""

from __future__ import annotations

import os

from togather_deploy.errors import ConfigError

# Directories that are never "the tool's own": the tool would create files in them and
# (before) chmod them 0700. Their subdirectories are fine (/var/lib/togather-deploy/x).
SYSTEM_DIRS = frozenset([
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt",
    "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/usr", "/usr/bin", "/usr/lib",
    "/usr/local", "/usr/sbin", "/var", "/var/cache", "/var/lib", "/var/log", "/var/run",
    "/tmp", "/var/tmp",  # noqa: S108 (refused, not used)
])
KERNEL_FS = ("/proc", "/sys", "/dev")


def host_dir(key: str, value: str, project_dir: str, *, fix: str) -> str:
    """``value`` resolved (see module docstring); ``ConfigError`` naming ``key`` otherwise.

    ``fix`` is the command that sets a good value (the key's config syntax differs).
    """
    if any(ord(c) < 32 or c == "\x7f" for c in value):
        raise _bad(key, value, "without control characters", fix)
    if ".." in value.replace("\\", "/").split("/"):
        raise _bad(key, value, "a path without '..'", fix)
    expanded = os.path.expanduser(value)
    path = os.path.normpath(os.path.join(os.path.abspath(project_dir), expanded))
    if path.startswith("//"):  # POSIX keeps a leading '//'; it is still the root
        path = "/" + path.lstrip("/")
    if path in SYSTEM_DIRS:
        raise _bad(key, value, f"a directory of the tool's own, not the system directory {path}",
                   fix)
    if any(path.startswith(fs + "/") for fs in KERNEL_FS):
        raise _bad(key, value, "a directory on a real filesystem (not /proc, /sys or /dev)", fix)
    return path


def _bad(key: str, value: str, allowed: str, fix: str) -> ConfigError:
    return ConfigError(f"{key}: must be {allowed}, got {value!r}", key=key, fix=fix)


def state_dir(value: str, project_dir: str, stack: str) -> str:
    return host_dir("stateDir", value, project_dir, fix=(
        f"pulumi config set togather:stateDir /var/lib/togather-deploy/{stack} --stack {stack} "
        "(a relative path is taken from the project directory)"))


def snapshot_dir(key: str, value: str, project_dir: str) -> str:
    return host_dir(key, value, project_dir, fix=(
        f"pulumi config rm --path togather:{key} (default: <stateDir>/snapshots), or set it to a "
        "directory of its own such as /var/lib/togather-deploy/snapshots"))


def project_path(project_dir: str, value: str) -> str:
    """A path the operator typed, relative to the project directory (not the shell's cwd)."""
    return os.path.abspath(os.path.join(project_dir, os.path.expanduser(value)))
