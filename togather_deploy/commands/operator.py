"""The docker commands of the day-two verbs (``logs``, ``exec``), as data.

``oneoff_argv`` never carries a variable's value: every variable is passed as ``--env NAME``
and its value travels in the docker CLI's own environment (``runner.interactive(argv,
env=...)``), so no secret reaches a command line, ``ps`` or a shell history. The only
exception is a name the docker CLI itself reads (``PATH``, ``HOME``, ``DOCKER_*``): such a
variable goes as ``NAME=value`` when its name is not secret-looking, and is refused otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from togather_deploy.commands.docker import _CLI_ENV
from togather_deploy.config.image_ref import check_image
from togather_deploy.errors import DeployError

Argv = tuple[str, ...]


def logs_argv(container: str, *, follow: bool = False, since: str | None = None,
              tail: str | None = None, timestamps: bool = False) -> Argv:
    argv = ["docker", "logs"]
    if follow:
        argv.append("--follow")
    if since:
        argv += ["--since", since]
    if tail:
        argv += ["--tail", tail]
    if timestamps:
        argv.append("--timestamps")
    return (*argv, "--", container)


def inspect_argv(container: str) -> Argv:
    return ("docker", "container", "inspect", "--format", "{{json .}}", "--", container)


def image_env_argv(image: str) -> Argv:
    return ("docker", "image", "inspect", "--format", "{{json .Config.Env}}", "--", image)


def oneoff_argv(*, name: str, image: str, network: str | None, env_names: Sequence[str],
                env_literals: Mapping[str, str], memory_mb: int | None, command: Sequence[str],
                entrypoint: str | None = None, tty: bool = False,
                labels: Mapping[str, str] | None = None) -> Argv:
    """``docker run --rm -i ...``: a container that lives as long as ``command``."""
    if not command:
        raise DeployError("no command to run", fix="put it after --: scripts/exec STACK -- CMD ARGS")
    if not image.startswith("sha256:"):
        check_image("image", image, pinned=False)
    argv = ["docker", "run", "--rm", "-i", "--name", name]
    if tty:
        argv.append("-t")
    if network:
        argv += ["--network", network]
    for env_name in sorted(env_names):
        argv += ["--env", env_name]
    for env_name in sorted(env_literals):
        argv += ["--env", f"{env_name}={env_literals[env_name]}"]
    if memory_mb:
        argv += ["--memory", f"{memory_mb}m"]
    if entrypoint is not None:
        argv += ["--entrypoint", entrypoint]
    tags = dict(labels or {})
    for key in sorted(tags):
        argv += ["--label", f"{key}={tags[key]}"]
    return (*argv, "--", image, *command)


def cli_env_names() -> frozenset[str]:
    """Names the docker CLI reads itself: never passed by name (see module docstring)."""
    return _CLI_ENV
