"""``RouterConfig``: the router's nginx.conf and router.js on the host, validated first.

Contract
- State recorded: the render inputs (``RouterParams`` as a dict), the host
  directory, the router container's name, the SHA-256 of both files, how they
  were validated (``container`` | ``host`` | ``image``) and whether a reload was
  signalled. Nothing secret is involved.
- Inputs: ``RouterConfigInputs`` (``components.providers.inputs``): ``check``
  validates them and turns the engine's floats back into ints (a port arrives
  as ``8080.0``); diff/create/update parse the same way.
- ``check``/``diff``: pure (no disk, no network). ``diff`` is an update when the
  rendered text, ``maintenance`` or the directory would change; never a replace.
- ``create``/``update``: render; write a *candidate* pair next to the live files;
  run the real ``nginx -t`` on it (``togather_deploy.ops.router_check``) — inside the
  running router container
  (``docker exec``), else with the host's nginx when it has the njs module (the
  same text with the host's paths for the directory and the module), else in a
  throwaway container of the router image; only then replace the live files atomically. A config that
  fails ``nginx -t`` is never written over the live one and never loaded: the
  update fails with nginx's message and the old files stay. The one-word
  ``active_color`` file is written only when absent (afterwards only
  ``TrafficSwitch`` writes it), except that a file from before 2026-12-03 gets the mode
  its word calls for (same word, one atomic write) before the new nginx.conf, which
  routes by that mode (``render.active_file``), replaces the live one. The ``maintenance``
  file follows ``params.maintenance`` (``router.maintenance``) on create and whenever that
  value changes — written (an existing message kept) or removed, never a reload: the
  rendered text does not depend on it, and between such changes ``scripts/maintenance``
  owns the file. Only when the text changed *and* the router
  container is running is nginx told to reload (``docker kill -s HUP``): that
  happens for structural changes, never on the release path, because nothing
  here depends on the active colour. Unchanged text: the previous outputs.
- ``read`` (a refresh targeted at this resource: docs/operations.md): reads only; the
  recorded hashes become those of the files on the host ("" when absent), so a vanished or
  hand-edited file shows in the next ``diff`` (recorded hash ≠ the rendered text's) and
  ``update`` writes it again (validated, and reloaded if the router runs). State without
  hashes is left as it is.
- ``delete``: leaves the files (the router container may still read them).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.providers import inputs as provider_inputs
from components.providers.failures import operator_errors
from togather_deploy.commands import docker as docker_cli
from togather_deploy.commands import runner
from togather_deploy.config.model import DeployConfig
from togather_deploy.errors import DeployError
from togather_deploy.ops import maintenance_flag, router_files
from togather_deploy.ops.router_check import is_running, validate
from togather_deploy.render.nginx import CONF_FILE, JS_FILE, RouterParams, render_nginx_conf, render_router_js


@dataclass(frozen=True)
class RouterConfigInputs:
    """The resource's inputs, as ``check`` validated them (``params.listen_port`` an int again)."""

    router_dir: str
    """Host directory of nginx.conf, router.js and active_color."""
    params: RouterParams
    container: str
    """The router container's name ("" in tests: no container)."""
    image: str
    """The router image: the throwaway ``nginx -t`` runs in it when no router runs."""
    initial_color: str
    """Written to active_color only when that file is absent."""

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> RouterConfigInputs:
        return provider_inputs.parse(cls, props)


def params_to_dict(p: RouterParams) -> dict[str, Any]:
    return provider_inputs.props(p)


def params_from_dict(d: Mapping[str, Any]) -> RouterParams:
    return provider_inputs.parse(RouterParams, d)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rendered(i: RouterConfigInputs) -> tuple[str, str]:
    return render_nginx_conf(i.params), render_router_js(i.params)


def _hashes(conf: str | None, js: str | None) -> dict[str, str]:
    return {"conf_sha256": _sha(conf) if conf is not None else "",
            "js_sha256": _sha(js) if js is not None else ""}


def _host_differs(olds: Mapping[str, Any], new: RouterConfigInputs) -> bool:
    """The recorded hashes (a refresh puts the host's there) are not the rendered text's."""
    want = _hashes(*rendered(new))
    return any(olds.get(k) is not None and olds[k] != v for k, v in want.items())


def _old_maintenance(old: Mapping[str, Any] | None) -> bool | None:
    """``router.maintenance`` as last applied; ``None`` when unknown (create, older state)."""
    try:
        return params_from_dict(old["params"]).maintenance if old else None
    except (DeployError, KeyError, TypeError):
        return None


def apply(props: Mapping[str, Any], old: Mapping[str, Any] | None) -> dict[str, Any]:
    i = RouterConfigInputs.from_props(props)
    conf, js = rendered(i)
    d = i.router_dir
    outs = provider_inputs.props(i)
    if _old_maintenance(old) != i.params.maintenance:
        router_files.ensure_dir(d)
        maintenance_flag.apply(d, i.params.maintenance)
    live_conf = router_files.read_text(os.path.join(d, CONF_FILE))
    live_js = router_files.read_text(os.path.join(d, JS_FILE))
    if old and live_conf == conf and live_js == js and router_files.read_text(
            os.path.join(d, "active_color")) is not None:
        return {**old, **outs}
    router_files.ensure_dir(d)
    how = validate(i, js)
    router_files.agree_mode_with_word(d)  # before the conf that tests the mode goes live
    router_files.atomic_write(os.path.join(d, JS_FILE), js)
    router_files.atomic_write(os.path.join(d, CONF_FILE), conf)
    if router_files.read_active_color(d) is None:
        router_files.write_active_color(d, i.initial_color)
    changed = (live_conf, live_js) != (conf, js)
    reloaded = changed and live_conf is not None and is_running(i.container)
    if reloaded:
        runner.run(docker_cli.kill_argv(i.container, "HUP"), timeout=30,
                   what="reloading the router (structural change)")
    return {**outs, **_hashes(conf, js), "validated_with": how,
            "reloaded": reloaded}


@operator_errors
class RouterConfigProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = provider_inputs.check_failures(RouterConfigInputs, news)
        if failures:
            return CheckResult(news, failures)
        return CheckResult(provider_inputs.props(RouterConfigInputs.from_props(news)), [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # initial_color is only used when the file is absent: a flip must not touch this resource
        new = RouterConfigInputs.from_props(news)
        try:
            old: RouterConfigInputs | None = RouterConfigInputs.from_props(olds)
        except DeployError:
            old = None  # state from an older version of this provider: rewrite it
        changed = [k for k in ("router_dir", "container", "image")
                   if old is None or getattr(old, k) != getattr(new, k)]
        if (old is None or provider_inputs.is_unknown(new.params) or rendered(old) != rendered(new)
                or old.params.maintenance != new.params.maintenance or _host_differs(olds, new)):
            changed.append("params")
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("router-config", outs=apply(props, None))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=apply(news, olds))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            d = RouterConfigInputs.from_props(props).router_dir
        except DeployError:
            return ReadResult(id_, props)  # state from an older provider: nothing to compare
        on_host = _hashes(router_files.read_text(os.path.join(d, CONF_FILE)),
                          router_files.read_text(os.path.join(d, JS_FILE)))
        return ReadResult(id_, {**props, **on_host} if "conf_sha256" in props else props)

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
