"""Shared by the ``TrafficSwitch`` tests: real nginx and two demo-app processes on loopback."""

from __future__ import annotations

import http.client
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from testkit.demo_app import DemoApp, prepare_database, start_demo_app
from testkit.nginx import NginxRouter, start_router
from testkit.ports import free_port

FAST_LIMITS = {"RATE_LIMIT_PUBLIC": "100000"}  # many switches per minute in one test


@dataclass
class World:
    blue: DemoApp
    green: DemoApp
    router: NginxRouter
    database_url: str

    def props(self, color: str, version: str, **over: Any) -> dict[str, Any]:
        slot = self.blue if color == "blue" else self.green
        return {"router_dir": self.router.conf_dir, "public_url": self.router.url,
                "active_color": color, "version": version, "target_url": slot.url,
                "health_path": "/health", "allow_degraded": False, "verify_path": "/version",
                "verify_timeout": 3, "stop_idle_slot": False, "idle_container": "",
                "drain_seconds": 0, "change": "", **over}

    def public(self) -> tuple[int, str | None, str | None]:
        conn = http.client.HTTPConnection("127.0.0.1", self.router.params.listen_port, timeout=10)
        try:
            conn.request("GET", "/api/v1/events")
            resp = conn.getresponse()
            resp.read()
            return resp.status, resp.getheader("X-Togather-Slot"), resp.getheader("X-Togather-Version")
        finally:
            conn.close()


@pytest.fixture
def world(database_url: str, workdir: str) -> Iterator[World]:
    prepare_database(database_url)
    blue = start_demo_app(port=free_port(), version="v1.4.0", slot="blue", database_url=database_url,
                          env=FAST_LIMITS)
    green = start_demo_app(port=free_port(), version="v1.5.0", slot="green", database_url=database_url,
                           env=FAST_LIMITS)
    world: World | None = None
    try:
        with start_router({"blue": f"127.0.0.1:{blue.port}", "green": f"127.0.0.1:{green.port}"},
                          os.path.join(workdir, "router")) as router:
            world = World(blue, green, router, database_url)
            yield world
    finally:
        # a test may have replaced a colour's process (world.green = …): stop what runs now
        for app in [blue, green, *((world.blue, world.green) if world else ())]:  # stop() is idempotent
            app.stop()
