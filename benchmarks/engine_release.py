"""A release and a flip by config edit, run by the real Pulumi engine, under load.

    venv/bin/python benchmarks/engine_release.py

Uses the engine ``scripts/build-engine`` installed (the resource plugins it records; the JSON
says when they are stand-ins) and the rehearsal images. One throwaway stack: ``pulumi up`` from
nothing, then with wrk (keep-alive, never retrying) plus slow requests (300 ms) in flight through
the router's published port:

* ``baseline``: the same load, nothing happening (this run);
* ``release``: ``green.version`` set, ``pulumi up`` (snapshot, migration, green started, gated);
* ``flip``: ``activeColor green``, ``pulumi up`` (the verified switch; the goal is < 15 s wall);
* ``rollback_flip``: ``activeColor blue``, ``pulumi up``.

Prints one JSON object: requests and failures per phase and the wall time of each ``pulumi up``.
Exit 1 when a request failed or the engine/images are unavailable.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from testkit.docker import engine_unavailable  # noqa: E402
from testkit.engine import find_engine  # noqa: E402
from tests.engine.node import IMAGES, V2, Node  # noqa: E402
from tests.rehearsal.app_images import ensure_images  # noqa: E402
from tests.rehearsal.load import Load  # noqa: E402
from tests.rehearsal.rehearsal_config import copy_migrations  # noqa: E402

SLOW = "/api/v1/slow?ms=300"
FAST = "/api/v1/events"
FLIP_GOAL_S = 15.0


def _under_load(node: Node, edit: dict[str, Any] | None) -> dict[str, Any]:
    """One phase: wrk on the public port while ``edit`` is written and ``pulumi up`` runs."""
    with Load(node.public_url + FAST) as fast, Load(node.public_url + SLOW, connections=4, threads=1) as slow:
        started = time.monotonic()
        if edit is None:
            time.sleep(10)
        else:
            node.raw.update(edit)
            node.write()
            node.up()
        wall = round(time.monotonic() - started, 2)
    f, s = fast.result(), slow.result()
    out: dict[str, Any] = {"requests": f.requests + s.requests, "failures": f.failures + s.failures,
                           "rps": round(f.rps, 1), "slots": f.slots}
    if edit is not None:
        out["pulumi_up_wall_s"] = wall
    return out


def main() -> int:
    engine = find_engine()
    reason = engine if isinstance(engine, str) else (engine.missing("docker", "random", "command")
                                                     or engine_unavailable())
    if reason or isinstance(engine, str):
        print(json.dumps({"error": reason}))
        return 1
    images = ensure_images(IMAGES)
    node = Node(engine, images, tempfile.mkdtemp(prefix="togather-engine-bench-"))
    node.start()
    try:
        started = time.monotonic()
        node.up()
        first_up = round(time.monotonic() - started, 2)
        baseline = _under_load(node, None)
        copy_migrations(node.migrations, 4)
        release = _under_load(node, {"green": {**node.raw["green"], "version": V2}})
        flip = _under_load(node, {"activeColor": "green"})
        back = _under_load(node, {"activeColor": "blue"})
    finally:
        node.ws.pulumi("destroy", "--yes", "--exclude-protected", "--stack", node.stack, check=False)
        node.cleanup()
    failures = release["failures"] + flip["failures"] + back["failures"]
    result = {
        "engine": engine.version,
        "standin_plugins": sorted(n for n in engine.plugins if n in engine.not_built),
        "first_up_wall_s": first_up,
        "baseline": baseline, "release": release, "flip": flip, "rollback_flip": back,
        "rps_ratio_release_vs_baseline": (round(release["rps"] / baseline["rps"], 3)
                                          if baseline["rps"] else None),
        "goal": {"failed_requests": failures, "zero_failed": failures == 0,
                 "flip_up_wall_s": flip["pulumi_up_wall_s"],
                 "flip_under_15s": flip["pulumi_up_wall_s"] < FLIP_GOAL_S},
    }
    print(json.dumps(result, indent=2))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
