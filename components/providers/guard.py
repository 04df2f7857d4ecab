"""``LiveSlotGuard``: the colour serving traffic is immutable.

Changing the version or the settings of the live colour would make pulumi-docker
delete and recreate the container that serves every request. This dynamic
resource is registered before the slots (they depend on it) and refuses such an
update at ``check`` time — during ``pulumi preview``, before anything changes.

Contract
- State recorded: the active colour and, per colour, its version and a
  fingerprint of its non-secret container settings (``specs.app_spec``); plus a
  hash of the secrets both colours receive (JWT, CSRF, database URL,
  ``appSecrets``), itself a Pulumi secret, so rotating one is caught too.
- Which colour is live: the one that *serves*, read by the program from the
  router's ``active_color`` file (``serving_color``; only ``TrafficSwitch``
  writes it, after a verified flip, and puts it back when a flip fails). Not
  the colour this resource recorded: it updates before the gate and the
  switch, so after a failed flip it names the new colour while traffic stays
  on the old one. Without the file (a first deployment, a preview on a CI
  runner) the recorded ``active_color`` stands in.
- Inputs: ``GuardInputs`` (``components.providers.inputs``), parsed alike by
  every method.
- ``check(olds, news)``: pure. Fails when (a) the live colour would get a
  different version/settings/secrets or lose its container, or (b) the colour
  to activate has no version. ``allowLiveReplace`` turns (a) into a pass for
  emergencies.
- ``diff``: pure; an update whenever a recorded setting changes (``serving_color``,
  an observation, is not one), never a replace.
- ``create``/``update``: record the new inputs, nothing else. ``delete``: nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.providers import inputs as provider_inputs
from components.providers.failures import operator_errors
from togather_deploy.config.model import COLORS, DeployConfig, other_color
from togather_deploy.ops import router_files
from togather_deploy.render.containers import app_spec


def slot_fingerprint(cfg: DeployConfig, color: str) -> str:
    """A hash of everything non-secret that defines the colour's container ("" = no container)."""
    if not cfg.slot(color).version:
        return ""
    spec = app_spec(cfg, color, secrets={})
    data = json.dumps(asdict(spec), sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def secrets_fingerprint(values: Mapping[str, str]) -> str:
    """A hash of the secret environment (stored as a secret; only compared, never shown)."""
    return hashlib.sha256(json.dumps(dict(values), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class GuardInputs:
    active_color: str
    """The colour this update makes active (stack config ``activeColor``)."""
    allow_live_replace: bool = False
    blue_version: str = ""
    blue_fingerprint: str = ""
    green_version: str = ""
    green_fingerprint: str = ""
    secrets_fingerprint: str = field(default="", metadata=provider_inputs.SECRET)
    serving_color: str = ""
    """What the router serves now (its ``active_color`` file); "" when unknown."""

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> GuardInputs:
        return provider_inputs.parse(cls, props)


OBSERVED = frozenset({"serving_color"})
"""Inputs the program observes rather than sets: never a reason to update by themselves."""


def live_color(olds: Mapping[str, Any], news: GuardInputs) -> str | None:
    """The colour serving traffic (see the module docstring); None before any deployment."""
    if news.serving_color in COLORS:
        return news.serving_color
    recorded = olds.get("active_color")
    return recorded if recorded in COLORS else None


def guard_inputs(cfg: DeployConfig) -> dict[str, Any]:
    inputs: dict[str, Any] = {"active_color": cfg.active_color,
                              "allow_live_replace": cfg.allow_live_replace,
                              "serving_color": router_files.read_active_color(cfg.router_dir) or ""}
    for color in COLORS:
        inputs[f"{color}_version"] = cfg.slot(color).version or ""
        inputs[f"{color}_fingerprint"] = slot_fingerprint(cfg, color)
    return inputs


def violations(olds: Mapping[str, Any], new: GuardInputs) -> list[CheckFailure]:
    """Why ``new`` may not follow ``olds`` (the previous inputs; empty: allowed)."""
    failures: list[CheckFailure] = []
    news = provider_inputs.props(new)
    olds = provider_inputs.problems(GuardInputs, olds)[0] if olds else {}  # defaults for absent keys
    active = new.active_color
    if active in COLORS and not news.get(f"{active}_version"):
        failures.append(CheckFailure("active_color", (
            f"activeColor is {active} but {active} has no version, so nothing would serve "
            f"traffic. Deploy it first: pulumi config set --path togather:{active}.version VERSION; "
            f"pulumi up; then flip activeColor.")))
    live = live_color(olds, new)
    if live is None or new.allow_live_replace:
        return failures
    old_s, new_s = olds.get("secrets_fingerprint"), news.get("secrets_fingerprint")
    known = isinstance(new_s, str) and new_s and not provider_inputs.is_unknown(new_s)
    if old_s and known and old_s != new_s and olds.get(f"{live}_version"):
        failures.append(CheckFailure("secrets_fingerprint", (
            f"a secret both colours receive (jwtSecret, csrfKey, databasePassword or appSecrets) "
            f"changed: that changes the environment of {live}, which is serving traffic, and "
            f"would replace its container (a brief outage). For a planned rotation: pulumi "
            f"config set togather:allowLiveReplace true, pulumi up, then pulumi config set "
            f"togather:allowLiveReplace false. Otherwise put the previous secret back.")))
    old_v, new_v = olds.get(f"{live}_version", ""), news.get(f"{live}_version", "")
    same = old_v == new_v and olds.get(f"{live}_fingerprint") == news.get(f"{live}_fingerprint")
    if not same:
        idle = other_color(live)
        what = (f"its version ({old_v or 'none'} → {new_v or 'none'})" if old_v != new_v
                else "its container settings (env, health check, limits)")
        failures.append(CheckFailure(f"{live}_version", (
            f"{live} is serving traffic: changing {what} would replace the live container. "
            f"Deploy to the idle colour instead: pulumi config set --path togather:{idle}.version "
            f"VERSION (and togather:{idle}.env.*), pulumi up, then pulumi config set "
            f"togather:activeColor {idle} and pulumi up (or: scripts/deploy STACK VERSION). "
            f"Put the previous values of {live} back in the stack config to continue. "
            f"For an emergency replacement with a brief outage: pulumi config set "
            f"togather:allowLiveReplace true.")))
    return failures


@operator_errors
class LiveSlotGuardProvider(ResourceProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = provider_inputs.check_failures(GuardInputs, news)
        if failures:
            return CheckResult(news, failures)
        new = GuardInputs.from_props(news)
        return CheckResult(provider_inputs.props(new), violations(olds or {}, new))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        new = provider_inputs.props(GuardInputs.from_props(news))
        # serving_color is what the router serves *now*, observed by the program: check() uses
        # it; alone it is no change (else the up after the first switch is never a no-op).
        keys = sorted(k for k in set(olds) | set(new) if not k.startswith("__")
                      and k not in OBSERVED and olds.get(k) != new.get(k))
        return DiffResult(changes=bool(keys), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("live-slot-guard", outs=provider_inputs.props(GuardInputs.from_props(props)))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=provider_inputs.props(GuardInputs.from_props(news)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class LiveSlotGuard(Resource):
    """Register before the slots; make every ``AppSlot`` depend on it."""

    active_color: pulumi.Output[str]

    def __init__(self, name: str, cfg: DeployConfig, *,
                 secrets: Mapping[str, pulumi.Input[str]] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {**guard_inputs(cfg)}
        if secrets:
            props["secrets_fingerprint"] = pulumi.Output.secret(
                pulumi.Output.all(**secrets).apply(secrets_fingerprint))
        super().__init__(LiveSlotGuardProvider(), name, props, opts)
