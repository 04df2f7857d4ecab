"""``TrafficSwitch`` under traffic and when killed: the idle process replaced while clients
hammer the router, and a switch SIGKILLed mid-write. Real nginx, two demo apps on loopback."""

from __future__ import annotations

import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from components.providers.traffic_switch import TrafficSwitchProvider
from testkit.demo_app import start_demo_app
from testkit.nginx import nginx_available
from testkit.provider_wire import ProviderWire
from tests.components.providers.conftest import FAST_LIMITS, World
from togather_deploy import ROOT
from togather_deploy.ops import router_files

pytestmark = [pytest.mark.nginx, pytest.mark.postgres,
              pytest.mark.skipif(not nginx_available(), reason="nginx + njs not installed: scripts/test")]


def _hammer(world: World, stop: threading.Event, errors: list[str], ok: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", world.router.params.listen_port, timeout=10)
    deadline = time.monotonic() + 60
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            conn.request("GET", "/api/v1/events")
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors.append(f"HTTP {resp.status}")
            ok.append(1)
        except (OSError, http.client.HTTPException) as exc:  # a keep-alive client that never retries
            errors.append(repr(exc))
            break
    conn.close()


@pytest.mark.slow
def test_replacing_the_idle_process_under_traffic_loses_no_request(world: World, wire: ProviderWire) -> None:
    wire.create(TrafficSwitchProvider(), world.props("blue", "v1.4.0"))
    stop, errors, ok = threading.Event(), [], []  # type: ignore[var-annotated]
    clients = [threading.Thread(target=_hammer, args=(world, stop, errors, ok)) for _ in range(4)]
    for c in clients:
        c.start()
    try:
        time.sleep(0.5)
        port = world.green.port
        world.green.stop()  # the idle colour is replaced: new process, same address, new version
        world.green = start_demo_app(port=port, version="v1.6.0", slot="green",
                                     database_url=world.database_url, env=FAST_LIMITS)
        wire.update(TrafficSwitchProvider(), "traffic-switch", {},
                     world.props("green", "v1.6.0"))
        time.sleep(0.5)
        wire.update(TrafficSwitchProvider(), "traffic-switch", {},
                     world.props("blue", "v1.4.0"))
        time.sleep(0.3)
    finally:
        stop.set()
        for c in clients:
            c.join(30)
    assert errors == [] and len(ok) > 50


_KILLED_SWITCH = """
import sys
from components.providers.traffic_switch import switch
props = eval(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    color = ("green", "blue")[i % 2]
    switch({**props[color]})
    i += 1
"""


@pytest.mark.slow
def test_a_switch_killed_with_sigkill_leaves_one_colour_served(world: World) -> None:
    props = {"blue": world.props("blue", "v1.4.0", verify_path="/api/v1/events"),
             "green": world.props("green", "v1.5.0", verify_path="/api/v1/events")}
    rng = random.Random(7)
    for _ in range(12):
        child = subprocess.Popen([sys.executable, "-c", _KILLED_SWITCH, repr(props)], cwd=ROOT,
                                 env={**os.environ, "PYTHONPATH": ROOT}, stdout=subprocess.PIPE)
        assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        child.stdout.close()
        color = router_files.read_active_color(world.router.conf_dir)
        assert color in ("blue", "green")
        version = "v1.4.0" if color == "blue" else "v1.5.0"
        assert world.public() == (200, color, version)
