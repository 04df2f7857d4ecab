"""The real ``nginx -t`` of a candidate router config, before it replaces the live one.

Where it runs: inside the running router container (``docker exec``), else with
the host's nginx when it has the njs module, else in a throwaway container of
the router image. The candidate files sit next to the live ones and are removed
afterwards, pass or fail. The host check runs as root: its pid file and every
temp path nginx creates (and chowns) live in a fresh ``mkdtemp`` directory,
removed afterwards, so no fixed name in $TMPDIR can be planted as a symlink.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Protocol

from togather_deploy.commands import runner
from togather_deploy.errors import DeployError
from togather_deploy.ops import router_files
from togather_deploy.render.nginx import CONF_FILE, RouterParams, render_nginx_conf


class CheckTarget(Protocol):
    """What a check needs (the RouterConfig provider's typed inputs have it)."""

    @property
    def router_dir(self) -> str: ...
    @property
    def params(self) -> RouterParams: ...
    @property
    def container(self) -> str: ...
    @property
    def image(self) -> str: ...

CANDIDATE_CONF = "nginx.candidate.conf"
CANDIDATE_JS = "router.candidate.js"
HOSTCHECK_CONF = "nginx.hostcheck.conf"
HOST_JS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"


def is_running(container: str) -> bool:
    """True only when Docker answers that the container runs (no docker: False)."""
    return runner.container_running(container) is True


def validate_argv(i: CheckTarget, *, running: bool, host_nginx: str | None,
                  check_dir: str = "") -> runner.Argv:
    """The ``nginx -t`` that checks the candidate: in the router, on the host, or in its image."""
    in_router = f"{i.params.conf_dir.rstrip('/')}/{CANDIDATE_CONF}"
    if running:
        return runner.docker_exec(i.container, ["nginx", "-t", "-q", "-c", in_router])
    if host_nginx:
        return (host_nginx, "-t", "-q", "-p", i.router_dir.rstrip("/") + "/", "-e", "stderr",
                "-c", os.path.join(check_dir, HOSTCHECK_CONF))
    # `--` ends docker's options: an image value starting with "-" stays an image name
    # --mount, not -v: a ":" in the state dir cannot split the bind
    return ("docker", "run", "--rm", "--network", "none", "--mount",
            f"type=bind,source={i.router_dir},target={i.params.conf_dir},readonly", "--", i.image,
            "nginx", "-t", "-q", "-c", in_router)


def host_check_conf(i: CheckTarget, check_dir: str) -> str:
    """The candidate as the host's nginx can load it: same text, host paths for dir and module.

    The pid file and every temp path nginx -t creates (and, as root, chowns) live in
    ``check_dir``, a fresh private directory: never a fixed name another local user
    could have planted as a symlink in $TMPDIR.
    """
    host = dataclasses.replace(i.params, conf_dir=i.router_dir, js_module=HOST_JS_MODULE,
                               error_log="stderr", pid=os.path.join(check_dir, "nginx.pid"),
                               temp_dir=check_dir)
    return render_nginx_conf(host, js_file=CANDIDATE_JS)


@contextlib.contextmanager
def private_check_dir() -> Iterator[str]:
    """A new 0700 directory for one host ``nginx -t``, removed afterwards."""
    d = tempfile.mkdtemp(prefix="togather-router-check-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _run_check(i: CheckTarget, running: bool, host_nginx: str | None) -> runner.Result:
    if not host_nginx:
        return runner.run(validate_argv(i, running=running, host_nginx=None), check=False, timeout=120)
    with private_check_dir() as check_dir:
        router_files.atomic_write(os.path.join(check_dir, HOSTCHECK_CONF), host_check_conf(i, check_dir))
        return runner.run(validate_argv(i, running=False, host_nginx=host_nginx, check_dir=check_dir),
                          check=False, timeout=120)


def validate(i: CheckTarget, js: str) -> str:
    d = i.router_dir
    router_files.atomic_write(os.path.join(d, CANDIDATE_JS), js)
    candidate = render_nginx_conf(i.params, js_file=CANDIDATE_JS)
    router_files.atomic_write(os.path.join(d, CANDIDATE_CONF), candidate)
    running = is_running(i.container)
    host_nginx = None if running or not os.path.exists(HOST_JS_MODULE) else shutil.which("nginx")
    how = "container" if running else "host" if host_nginx else "image"
    try:
        result = _run_check(i, running, host_nginx)
    finally:
        for name in (CANDIDATE_CONF, CANDIDATE_JS):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(d, name))
    if not result.ok:
        raise DeployError(f"the new router config fails `nginx -t` ({how}); nothing was changed",
                          file=os.path.join(d, CONF_FILE),
                          context={"nginx": (result.stderr or result.stdout).strip()[-2000:]},
                          fix="correct the router.* stack config and run pulumi up again")
    return how
