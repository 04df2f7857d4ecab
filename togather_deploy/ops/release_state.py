"""Where the release state lives: in the stack's backend, not in the checked-out stack file.

Every release changes ``activeColor`` and a colour's ``version`` with ``pulumi config set``,
which edits the working copy of ``Pulumi.<stack>.yaml``. CI deploys from a fresh checkout,
where those keys still hold whatever was last committed; a second deploy would then pick the
wrong idle colour. So the truth is what the last ``pulumi up`` deployed: the program's stack
outputs ``activeColor`` and ``versions``, read from the backend with ``pulumi stack output``.

``sync`` runs under the stack lock, before a deploy or rollback decides anything: where the
stack file's release keys differ from the deployed ones it sets them (``pulumi config set``,
so the file is edited exactly as a release edits it) and says so. Every other key still
comes from the file (the reviewed config). A stack never deployed has no outputs: the file
is used as it is. If the backend cannot be read, ``sync`` refuses (exit 1) rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from togather_deploy.config.model import COLORS, DeployConfig
from togather_deploy.config.source import from_stack_file
from togather_deploy.errors import DeployError
from togather_deploy.ops.context import OpsContext
from togather_deploy.ops.engine import engine_of


@dataclass(frozen=True)
class Deployed:
    """The release keys as the last ``pulumi up`` left them."""

    active_color: str
    versions: Mapping[str, str]


def from_outputs(outputs: Mapping[str, Any]) -> Deployed | None:
    """``None`` when the outputs do not say (a stack never deployed, or an older program)."""
    active = outputs.get("activeColor")
    versions = outputs.get("versions")
    if active not in COLORS or not isinstance(versions, Mapping):
        return None
    return Deployed(str(active), {c: str(v) for c, v in versions.items() if c in COLORS and v})


def drift(cfg: DeployConfig, deployed: Deployed) -> list[tuple[str, str, bool]]:
    """``(key, deployed value, --path?)`` for every release key the stack file has wrong."""
    changes: list[tuple[str, str, bool]] = []
    for color, version in sorted(deployed.versions.items()):
        if cfg.slot(color).version != version:
            changes.append((f"{color}.version", version, True))
    if cfg.active_color != deployed.active_color:
        changes.append(("activeColor", deployed.active_color, False))
    return changes


def read(ctx: OpsContext) -> Deployed | None:
    return from_outputs(engine_of(ctx).outputs("reading the deployed release state"))


def sync(ctx: OpsContext, cfg: DeployConfig, note: Callable[[str], None]) -> DeployConfig:
    """The stack's config with its release keys as deployed (the stack file updated to match)."""
    try:
        deployed = read(ctx)
    except DeployError as exc:
        exc.fix = exc.fix or (f"log in to the stack's backend (pulumi login …; in CI the "
                              f"PULUMI_BACKEND_URL secret) and check `pulumi stack output "
                              f"--stack {ctx.stack}`")
        raise
    if deployed is None:
        return cfg
    changes = drift(cfg, deployed)
    for key, value, path in changes:
        note(f"stack file said {key} = {_current(cfg, key)}, the deployed stack {value}: using {value}")
        engine_of(ctx).set_config(key, value, path=path)
    return from_stack_file(ctx.project_dir, ctx.stack) if changes else cfg


def _current(cfg: DeployConfig, key: str) -> str:
    if key == "activeColor":
        return cfg.active_color
    return cfg.slot(key.split(".", 1)[0]).version or "(none)"
