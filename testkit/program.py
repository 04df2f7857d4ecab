"""Run the real ``__main__.py`` under Pulumi's mocks and record every registration.

The engine cannot run here, so this is the one place we stand in for it: the
mock monitor records what the program asks for (type, name, parent, options and
inputs with their secret-ness) and answers with plausible ids and outputs.
"""

from __future__ import annotations

import json
import os
import runpy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import mocks as pm
from pulumi.runtime import rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from togather_deploy import ROOT
from togather_deploy.config.source import NAMESPACE, PROJECT, read_stack_file

SECRET_SIG = rpc._special_secret_sig  # how the wire format marks a secret value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == SECRET_SIG


def reveal(value: Any) -> Any:
    """The plain value inside a (possibly nested) secret wrapper."""
    if is_secret(value):
        return reveal(value["value"])
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


@dataclass
class Registration:
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    dependencies: list[str]
    inputs: dict[str, Any]


class _Mocks(pm.Mocks):
    def new_resource(self, args: pm.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        outs = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            outs["result"] = "r" * int(args.inputs.get("length", 32))
        if args.typ == "docker:index/remoteImage:RemoteImage":
            outs["imageId"] = "sha256:" + "0" * 12 + args.inputs["name"]
        return f"{args.name}-id", outs

    def call(self, args: pm.MockCallArgs) -> Any:
        return {}


class _Recorder(pm.MockMonitor):
    def __init__(self, mocks: pm.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC name)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(Registration(
                type=request.type, name=request.name, parent=request.parent,
                custom=request.custom, protect=request.protect,
                retain_on_delete=request.retainOnDelete,
                delete_before_replace=request.deleteBeforeReplace,
                dependencies=list(request.dependencies),
                inputs=rpc.deserialize_properties(request.object)))
        return super().RegisterResource(request)


@dataclass
class ProgramRun:
    registrations: list[Registration]

    def of_type(self, typ: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == typ]

    def named(self, name: str) -> Registration:
        found = [r for r in self.registrations if r.name == name]
        assert len(found) == 1, f"{len(found)} resources named {name}"
        return found[0]

    def containers(self) -> dict[str, Registration]:
        return {r.inputs["name"]: r for r in self.of_type("docker:index/container:Container")}


def stack_config(stack: str) -> dict[str, Any]:
    raw, _ = read_stack_file(ROOT, stack)
    return dict(raw)


def _as_pulumi_string(value: Any) -> str:
    """How the engine hands config to a program: strings, JSON for objects."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def run_program(stack: str, raw: Mapping[str, Any] | None = None,
                secrets: Mapping[str, Any] | None = None) -> ProgramRun:
    """Run ``__main__.py`` for ``stack`` (config from its stack file unless ``raw`` is given).

    ``secrets`` are extra keys set the way ``pulumi config set --secret`` does.
    """
    raw = dict(stack_config(stack) if raw is None else raw)
    config = {f"{NAMESPACE}:{k}": _as_pulumi_string(v) for k, v in raw.items()}
    config.update({f"{NAMESPACE}:{k}": _as_pulumi_string(v) for k, v in (secrets or {}).items()})
    set_all_config(config, secret_keys=[f"{NAMESPACE}:{k}" for k in (secrets or {})])
    mocks = _Mocks()
    monitor = _Recorder(mocks)
    settings.set_root_resource(None)  # type: ignore[arg-type]  # a fresh Stack per run, like the engine
    pm.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    cwd = os.getcwd()
    os.chdir(ROOT)

    def program() -> None:
        runpy.run_path(os.path.join(ROOT, "__main__.py"), run_name="__main__")

    try:
        _sync_await(run_pulumi_func(program))
    finally:
        os.chdir(cwd)
        set_all_config({}, secret_keys=[])
    return ProgramRun(monitor.registrations)


__all__ = ["ProgramRun", "Registration", "is_secret", "reveal", "run_program", "pulumi"]
