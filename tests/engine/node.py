"""The engine tests' node: the real program's dev-like stack in a workspace of its own.

``started_node`` initialises the stack (config and secrets, nothing created yet), yields it,
then destroys what it made (the protected volume too, through ``cleanup``).
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from testkit import docker
from testkit.engine import Engine, Workspace
from tests.rehearsal.app_images import RehearsalImages, ensure_images
from tests.rehearsal.rehearsal_config import copy_migrations, initial_raw

V1, V2 = "v1.0.0", "v2.0.0"
"""Exact releases: the policy pack refuses a moving tag like ``v1`` for the app."""
IMAGES = {V1: V1, V2: V2}
"""Image tag → the version that image answers with."""
SECRETS = ("databasePassword", "jwtSecret", "csrfKey")
DOCUMENTED_OUTPUTS = {"activeColor", "versions", "publicUrl", "previewUrl", "slotUrls",
                      "databaseHostUrl", "stateDir", "snapshotDir", "snapshotPath",
                      "migrationsApplied", "schemaVersion"}


class Node:
    """The stack under test: its workspace, raw config and helpers to read the running node."""

    def __init__(self, engine: Engine, images: RehearsalImages, tmp: str) -> None:
        self.stack = f"enginetest-{os.urandom(3).hex()}"
        """Unique per node: engineers share one Docker engine, and the teardown removes by this label."""
        self.ws = Workspace(engine, tmp)
        self.state_dir = os.path.join(tmp, "state")
        self.migrations = os.path.join(tmp, "migrations")
        os.makedirs(self.migrations)
        copy_migrations(self.migrations, 3)
        raw = initial_raw(images, state_dir=self.state_dir, migrations_dir=self.migrations,
                          password=os.urandom(12).hex())
        raw["blue"] = {**raw["blue"], "version": V1}
        raw["stopIdleSlot"] = True
        # the demo app has no river_job table, so it answers "degraded" (as the dev stack allows)
        raw["health"] = {**raw["health"], "allowDegraded": True}
        self.secrets = {k: raw.pop(k) for k in SECRETS}
        self.raw = raw

    def write(self) -> None:
        self.ws.write_config(self.stack, {f"togather:{k}": v for k, v in self.raw.items()})

    def start(self) -> None:
        self.write()
        self.ws.pulumi("stack", "init", self.stack)
        for key, value in self.secrets.items():  # through stdin: never on a command line
            self.ws.pulumi("config", "set", "--secret", f"togather:{key}", "--stack", self.stack, stdin=value)

    def up(self, *extra: str, check: bool = True) -> Any:
        return self.ws.pulumi("up", "--yes", "--stack", self.stack, *extra, check=check)

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.raw['publicPort']}"

    def served(self) -> tuple[str, str]:
        """(colour, version) that answered one request through the router's public port."""
        with urllib.request.urlopen(self.public_url + "/api/v1/events", timeout=10) as resp:
            return resp.headers["X-Togather-Slot"], resp.headers["X-Togather-Version"]

    def name(self, role: str) -> str:
        """Docker object names: ``<project>-<stack>-<role>``."""
        return f"togather-deploy-{self.stack}-{role}"

    def cleanup(self) -> None:
        docker.cleanup({"togather.stack": self.stack}, networks=[self.name("net")],
                       volumes=[self.name("pgdata")])


def started_node(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    reason = engine.missing("docker", "random", "command") or docker.engine_unavailable()
    if reason:
        pytest.skip(reason)
    images = ensure_images(IMAGES)
    n = Node(engine, images, str(tmp_path_factory.mktemp("engine-node")))
    n.start()
    yield n
    n.ws.pulumi("destroy", "--yes", "--exclude-protected", "--stack", n.stack, check=False)
    n.cleanup()
