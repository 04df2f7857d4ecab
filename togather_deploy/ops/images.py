"""The app images kept on the host: what ``rollback --to`` can go back to, and their pruning.

Each release pulls (or builds) ``<image>:<version>`` and keeps it (``AppSlot``'s
``keep_locally``), so a version whose image is still on the host can serve again without a
registry. ``kept_versions`` lists them, newest first (``docker image ls <image>``).
``prune_plan`` keeps the newest ``keepImages`` (5 by default) plus every version a colour is
configured with, whatever its age; ``prune`` removes the rest with ``docker image rm``
(never ``--force``: an image a container still uses is refused by Docker and reported, not
removed). Only tags of this stack's ``image`` repository are ever touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from togather_deploy.commands import runner
from togather_deploy.config.model import COLORS, DeployConfig
from togather_deploy.errors import DeployError

Run = Callable[..., runner.Result]


@dataclass(frozen=True)
class KeptImage:
    version: str
    image_id: str
    created: str
    """Docker's ``CreatedAt`` (``2026-12-02 18:00:00 +0000 UTC``): sorts as time does."""
    size: str


def list_argv(repository: str) -> tuple[str, ...]:
    return ("docker", "image", "ls", "--format", "{{json .}}", repository)


def rm_argv(reference: str) -> tuple[str, ...]:
    return ("docker", "image", "rm", reference)


def kept_versions(cfg: DeployConfig, run: Run = runner.run) -> tuple[KeptImage, ...]:
    """The versions of ``cfg.image`` on this host, newest first. ``DeployError`` when Docker
    does not answer."""
    result = run(list_argv(cfg.image), timeout=30, check=False, what="docker image ls")
    if not result.ok:
        raise DeployError(f"cannot list the images of {cfg.image}: {result.stderr.strip()[:200]}",
                          fix="check that Docker runs and this user may use it (docker info)")
    images = []
    for line in result.stdout.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        tag = row.get("Tag") or ""
        if tag and tag != "<none>":
            images.append(KeptImage(tag, row.get("ID", ""), row.get("CreatedAt", ""), row.get("Size", "")))
    return tuple(sorted(images, key=lambda i: (i.created, i.version), reverse=True))


def in_use(cfg: DeployConfig) -> set[str]:
    return {v for v in (cfg.slot(c).version for c in COLORS) if v}


def prune_plan(kept: Sequence[KeptImage], keep: int, used: set[str]) -> list[str]:
    """The versions to remove: beyond the newest ``keep``, never one in ``used``."""
    return [i.version for i in kept[keep:] if i.version not in used]


def require_kept(cfg: DeployConfig, version: str, run: Run = runner.run) -> None:
    """``DeployError`` (exit 1, with the kept versions) unless ``image:version`` is on the host."""
    kept = kept_versions(cfg, run)
    if version not in {i.version for i in kept}:
        listed = ", ".join(i.version for i in kept) or "none"
        raise DeployError(f"{cfg.image}:{version} is not on this host (kept: {listed})",
                          fix="roll back to a kept version, or release it again with "
                              f"scripts/deploy {cfg.stack} {version} (which pulls it)")


@dataclass(frozen=True)
class PruneResult:
    kept: tuple[str, ...]
    removed: tuple[str, ...]
    refused: tuple[str, ...]
    """Versions Docker would not remove (a container still uses them)."""


def prune(cfg: DeployConfig, keep: int | None = None, run: Run = runner.run) -> PruneResult:
    """Remove what ``prune_plan`` names; idempotent (a second run finds nothing to remove)."""
    kept = kept_versions(cfg, run)
    plan = prune_plan(kept, cfg.keep_images if keep is None else keep, in_use(cfg))
    removed: list[str] = []
    refused: list[str] = []
    for version in plan:
        result = run(rm_argv(f"{cfg.image}:{version}"), timeout=60, check=False, what="docker image rm")
        (removed if result.ok else refused).append(version)
    return PruneResult(tuple(i.version for i in kept if i.version not in removed), tuple(removed),
                       tuple(refused))
