"""``RouterConfig``: the router's nginx.conf and router.js on the host, validated first.

Contract
- State recorded: the render inputs (``RouterParams`` as a dict), the host
  directory, the router container's name, the SHA-256 of both files, how they
  were validated (``container`` | ``host`` | ``image``) and whether a reload was
  signalled. Nothing secret is involved.
- ``check``/``diff``: pure (no disk, no network). ``diff`` is an update when the
  rendered text or the directory would change; never a replace.
- ``create``/``update``: render; write a *candidate* pair next to the live files;
  run the real ``nginx -t`` on it — inside the running router container
  (``docker exec``), else with the host's nginx when it has the njs module (the
  same text with the host's paths for the directory and the module), else in a
  throwaway container of the router image; only then replace the live files atomically. A config that
  fails ``nginx -t`` is never written over the live one and never loaded: the
  update fails with nginx's message and the old files stay. The one-word
  ``active_color`` file is written only when absent (afterwards only
  ``TrafficSwitch`` writes it). Only when the text changed *and* the router
  container is running is nginx told to reload (``docker kill -s HUP``): that
  happens for structural changes, never on the release path, because nothing
  here depends on the active colour. Unchanged text: the previous outputs.
- ``delete``: leaves the files (the router container may still read them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from components import router_files, runner
from components.config import DeployConfig
from components.errors import DeployError
from components.nginx_conf import CONF_FILE, JS_FILE, RouterParams, render_nginx_conf, render_router_js

CANDIDATE_CONF = "nginx.candidate.conf"
CANDIDATE_JS = "router.candidate.js"
HOST_JS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"
_KEYS = ("router_dir", "params", "container", "image", "initial_color")


def params_to_dict(p: RouterParams) -> dict[str, Any]:
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in dataclasses.asdict(p).items()}


def params_from_dict(d: Mapping[str, Any]) -> RouterParams:
    fields = {f.name for f in dataclasses.fields(RouterParams)}
    return RouterParams(**{k: v for k, v in d.items() if k in fields})


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rendered(props: Mapping[str, Any]) -> tuple[str, str]:
    p = params_from_dict(props["params"])
    return render_nginx_conf(p), render_router_js(p)


def is_running(container: str) -> bool:
    """True only when Docker answers that the container runs (no docker: False)."""
    return runner.container_running(container) is True


def validate_argv(props: Mapping[str, Any], *, running: bool, host_nginx: str | None) -> runner.Argv:
    """The ``nginx -t`` that checks the candidate: in the router, on the host, or in its image."""
    p = params_from_dict(props["params"])
    in_router = f"{p.conf_dir.rstrip('/')}/{CANDIDATE_CONF}"
    if running:
        return runner.docker_exec(props["container"], ["nginx", "-t", "-q", "-c", in_router])
    if host_nginx:
        directory = props["router_dir"]
        return (host_nginx, "-t", "-q", "-p", directory.rstrip("/") + "/", "-e", "stderr",
                "-c", os.path.join(directory, "nginx.hostcheck.conf"))
    return ("docker", "run", "--rm", "--network", "none", "-v",
            f"{props['router_dir']}:{p.conf_dir}:ro", props["image"], "nginx", "-t", "-q",
            "-c", in_router)


def host_check_conf(props: Mapping[str, Any]) -> str:
    """The candidate as the host's nginx can load it: same text, host paths for dir and module."""
    p = params_from_dict(props["params"])
    host = dataclasses.replace(p, conf_dir=props["router_dir"], js_module=HOST_JS_MODULE,
                               error_log="stderr",
                               pid=os.path.join(tempfile.gettempdir(), "togather-router-check.pid"),
                               temp_dir=tempfile.gettempdir())
    return render_nginx_conf(host, js_file=CANDIDATE_JS)


def _validate(props: Mapping[str, Any], conf: str, js: str) -> str:
    d = props["router_dir"]
    p = params_from_dict(props["params"])
    router_files.atomic_write(os.path.join(d, CANDIDATE_JS), js)
    router_files.atomic_write(os.path.join(d, CANDIDATE_CONF), render_nginx_conf(p, js_file=CANDIDATE_JS))
    running = is_running(props["container"])
    host_nginx = None if running or not os.path.exists(HOST_JS_MODULE) else shutil.which("nginx")
    if host_nginx:
        router_files.atomic_write(os.path.join(d, "nginx.hostcheck.conf"), host_check_conf(props))
    how = "container" if running else "host" if host_nginx else "image"
    try:
        result = runner.run(validate_argv(props, running=running, host_nginx=host_nginx), check=False,
                            timeout=120)
    finally:
        for name in (CANDIDATE_CONF, CANDIDATE_JS, "nginx.hostcheck.conf"):
            if os.path.exists(os.path.join(d, name)):
                os.unlink(os.path.join(d, name))
    if not result.ok:
        raise DeployError(f"the new router config fails `nginx -t` ({how}); nothing was changed",
                          file=os.path.join(d, CONF_FILE),
                          context={"nginx": (result.stderr or result.stdout).strip()[-2000:]},
                          fix="correct the router.* stack config and run pulumi up again")
    return how


def apply(props: Mapping[str, Any], old: Mapping[str, Any] | None) -> dict[str, Any]:
    conf, js = rendered(props)
    d = props["router_dir"]
    outs = {k: props[k] for k in _KEYS}
    live_conf = router_files.read_text(os.path.join(d, CONF_FILE))
    live_js = router_files.read_text(os.path.join(d, JS_FILE))
    if old and live_conf == conf and live_js == js and router_files.read_text(
            os.path.join(d, "active_color")) is not None:
        return {**old, **outs}
    router_files.ensure_dir(d)
    how = _validate(props, conf, js)
    router_files.atomic_write(os.path.join(d, JS_FILE), js)
    router_files.atomic_write(os.path.join(d, CONF_FILE), conf)
    if router_files.read_active_color(d) is None:
        router_files.write_active_color(d, props["initial_color"])
    changed = (live_conf, live_js) != (conf, js)
    reloaded = changed and live_conf is not None and is_running(props["container"])
    if reloaded:
        runner.run(("docker", "kill", "--signal", "HUP", props["container"]), timeout=30,
                   what="reloading the router (structural change)")
    return {**outs, "conf_sha256": _sha(conf), "js_sha256": _sha(js), "validated_with": how,
            "reloaded": reloaded}


class RouterConfigProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # initial_color is only used when the file is absent: a flip must not touch this resource
        changed = [k for k in ("router_dir", "container", "image")
                   if olds.get(k) != news.get(k)]
        if olds.get("params") is None or rendered(olds) != rendered(news):
            changed.append("params")
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("router-config", outs=apply(props, None))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=apply(news, olds))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


def router_config_props(cfg: DeployConfig, params: RouterParams) -> dict[str, Any]:
    """The resource's inputs: what the program declares and the rehearsal applies."""
    return {
        "router_dir": cfg.router_dir, "params": params_to_dict(params),
        "container": cfg.name("router"), "image": cfg.router.image,
        "initial_color": cfg.active_color,
    }


class RouterConfig(Resource):
    """The router's config files in ``cfg.router_dir``; the router container depends on it."""

    conf_sha256: pulumi.Output[str]
    js_sha256: pulumi.Output[str]

    def __init__(self, name: str, cfg: DeployConfig, params: RouterParams,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {**router_config_props(cfg, params), "conf_sha256": None, "js_sha256": None}
        super().__init__(RouterConfigProvider(), name, props, opts)
