"""The one place that executes commands. Everything else builds argv lists as data.

Builders (``pg_dump_argv``, ``docker_exec``...) are pure and tested with plain
asserts; only ``run`` touches the system, and it never puts a secret on a
command line (pass secrets through ``env`` or ``stdin``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from togather_deploy.errors import DeployError

Argv = tuple[str, ...]


@dataclass(frozen=True)
class Result:
    argv: Argv
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def docker_exec(container: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                interactive: bool = False) -> Argv:
    """``docker exec [-i] [-e NAME ...] CONTAINER argv...`` (values come from our env)."""
    cmd: list[str] = ["docker", "exec"]
    if interactive:
        cmd.append("-i")
    for name in sorted(env or {}):
        cmd += ["-e", name]  # value inherited from the runner's env: never on the command line
    return (*cmd, container, *argv)


def running_argv(container: str) -> Argv:
    return ("docker", "inspect", "--format", "{{.State.Running}}", container)


def container_running(container: str) -> bool | None:
    """True/False as Docker reports it; None when there is no docker or no such container."""
    import shutil

    if not container or shutil.which("docker") is None:
        return None
    result = run(running_argv(container), check=False, timeout=30)
    if not result.ok:
        return None
    return result.stdout.strip() == "true"


def run(argv: Sequence[str], *, env: Mapping[str, str] | None = None, input: str | None = None,
        timeout: float | None = None, check: bool = True, what: str | None = None) -> Result:
    """Run ``argv`` and capture its output; raise ``DeployError`` on failure when ``check``."""
    full_env = {**os.environ, **(env or {})}
    try:
        proc = subprocess.run(list(argv), env=full_env, input=input, capture_output=True,
                              text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise DeployError(f"{argv[0]}: command not found", cause=exc,
                          fix=f"install {argv[0]} or put it on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise DeployError(f"{what or argv[0]} timed out after {timeout}s", cause=exc) from exc
    result = Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
    if check and not result.ok:
        raise DeployError(f"{what or argv[0]} failed with exit code {proc.returncode}",
                          context={"stderr": proc.stderr.strip()[-2000:]})
    return result


def spawn(argv: Sequence[str], *, env: Mapping[str, str] | None = None, stdin: Any = None,
          stdout: Any = None) -> subprocess.Popen[bytes]:
    """Start ``argv`` for byte streaming (a dump to a file, a file into psql); stderr is piped.

    The caller owns the process: it must read/close the pipes and ``wait()``. It runs in
    its own process group so a stuck child can be killed without killing the caller.
    """
    try:
        return subprocess.Popen(list(argv), env={**os.environ, **(env or {})}, stdin=stdin,
                                stdout=stdout, stderr=subprocess.PIPE, start_new_session=True)
    except FileNotFoundError as exc:
        raise DeployError(f"{argv[0]}: command not found", cause=exc,
                          fix=f"install {argv[0]} or put it on PATH") from exc


def interactive(argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> int:
    """Run ``argv`` on the caller's terminal (stdin, stdout, stderr inherited; Ctrl-C reaches it
    too) and return its exit code: an operator's one-off command (``scripts/exec``)."""
    try:
        return subprocess.run(list(argv), env={**os.environ, **(env or {})}, check=False).returncode
    except FileNotFoundError as exc:
        raise DeployError(f"{argv[0]}: command not found", cause=exc,
                          fix=f"install {argv[0]} or put it on PATH") from exc
