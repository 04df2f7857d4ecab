"""The real ``__main__.py`` run by the real engine on the real Docker engine, as operators run it.

One stack, in order: ``pulumi preview`` from empty, ``pulumi up``, a no-op ``up``, the release by
two config edits exactly as the README documents it (under keep-alive load that never retries),
the guard refusing an in-place change of the live colour at preview, and ``pulumi destroy``
leaving the database volume and every snapshot. The resource plugins are whatever
``scripts/build-engine`` installed (the manifest says when they are stand-ins, and why).
"""

from __future__ import annotations

import os
import re
import subprocess
import urllib.error
from collections.abc import Iterator

import pytest

from testkit import docker
from testkit.engine import ROOT, Engine
from tests.engine.node import DOCUMENTED_OUTPUTS, V1, V2, Node, started_node
from tests.rehearsal.load import Load
from tests.rehearsal.rehearsal_config import copy_migrations
from togather_deploy.db.snapshots.store import list_snapshots

pytestmark = [pytest.mark.engine, pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def node(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from started_node(engine, tmp_path_factory)


def test_preview_from_empty_then_up_creates_every_resource(node: Node) -> None:
    preview = node.ws.pulumi("preview", "--stack", node.stack)
    assert "to create" in preview.stdout and "error" not in preview.stdout.lower(), preview.stdout
    up = node.up()
    assert "created" in up.stdout, up.stdout
    assert node.served() == ("blue", V1)
    outputs = node.ws.outputs(node.stack)
    assert set(outputs) >= DOCUMENTED_OUTPUTS, sorted(outputs)
    assert outputs["databaseHostUrl"] == "[secret]" and outputs["activeColor"] == "blue"
    assert outputs["stateDir"] == node.state_dir and outputs["versions"] == {"blue": V1}


def test_a_second_up_changes_nothing(node: Node) -> None:
    again = node.ws.pulumi("preview", "--stack", node.stack, "--expect-no-changes")
    assert again.returncode == 0, again.stdout


def _refresh_only(node: Node, resource: str) -> None:
    """docs/operations.md: refresh one resource, by the URN ``pulumi stack --show-urns`` gives."""
    urns = node.ws.pulumi("stack", "--stack", node.stack, "--show-urns").stdout
    urn = re.search(rf"urn:\S*::{resource}$", urns, re.MULTILINE)
    assert urn, urns
    node.ws.pulumi("refresh", "--yes", "--stack", node.stack, "--target", urn.group(0))
    changes = node.ws.pulumi("preview", "--stack", node.stack, "--expect-no-changes", check=False)
    assert changes.returncode != 0 and resource in changes.stdout, changes.stdout


def test_a_router_file_removed_by_hand_comes_back_by_the_documented_refresh_then_up(node: Node) -> None:
    """Refresh the router's config resource alone (its ``read`` records the host's hashes),
    then ``up`` writes the rendered file again; the router keeps serving."""
    conf = os.path.join(node.state_dir, "router", "nginx.conf")
    with open(conf, encoding="utf-8") as fh:
        written = fh.read()
    os.unlink(conf)
    _refresh_only(node, "router-config")
    assert not os.path.exists(conf)  # a refresh only reads
    node.up()
    with open(conf, encoding="utf-8") as fh:
        assert fh.read() == written
    assert node.served() == ("blue", V1)
    assert node.ws.pulumi("preview", "--stack", node.stack, "--expect-no-changes").returncode == 0


def test_a_lost_colour_file_comes_back_by_the_documented_refresh_then_up(node: Node) -> None:
    """Without ``active_color`` every request gets a 503: refresh the switch alone (its ``read``
    records no colour), then ``up`` switches to the configured colour again, verified."""
    colour = os.path.join(node.state_dir, "router", "active_color")
    os.unlink(colour)
    with pytest.raises(urllib.error.HTTPError) as lost:
        node.served()
    assert lost.value.code == 503
    _refresh_only(node, "traffic-switch")
    assert not os.path.exists(colour)  # a refresh only reads
    node.up()
    assert node.served() == ("blue", V1)
    assert node.ws.pulumi("preview", "--stack", node.stack, "--expect-no-changes").returncode == 0


def test_release_by_two_config_edits_under_load_fails_no_request(node: Node) -> None:
    snapshots_before = len(list_snapshots(os.path.join(node.state_dir, "snapshots")))
    copy_migrations(node.migrations, 4)
    with Load(node.public_url + "/api/v1/events") as load:
        node.raw["green"] = {**node.raw["green"], "version": V2}
        node.write()
        node.up()                                   # step 1: green next to blue
        released = len(list_snapshots(os.path.join(node.state_dir, "snapshots")))
        node.raw["activeColor"] = "green"
        node.write()
        node.up()                                   # step 2: the flip
    result = load.result()
    # the flip alone changes no database and takes no snapshot
    assert len(list_snapshots(os.path.join(node.state_dir, "snapshots"))) == released
    assert result.failures == 0 and result.requests > 0, result
    assert node.served() == ("green", V2)
    snaps = list_snapshots(os.path.join(node.state_dir, "snapshots"))
    newest = max(snaps, key=lambda snap: snap.name)          # names sort by their UTC time
    assert len(snaps) == snapshots_before + 1 and newest.meta and newest.meta["schema_version"] == 3
    assert docker.state(node.name("app-blue"))["Running"] is False   # stopIdleSlot


def test_a_colour_that_never_gets_healthy_is_never_switched_to(node: Node) -> None:
    """The gate fails the up (traffic stays green, no request fails); the next correct up passes."""
    healthy_blue, health = dict(node.raw["blue"]), dict(node.raw["health"])
    node.raw.update(blue={**healthy_blue, "env": {"DEMO_HEALTH": "unhealthy"}}, activeColor="blue",
                    health={**health, "timeoutSeconds": 10})
    with Load(node.public_url + "/api/v1/events") as load:
        node.write()
        failed = node.up(check=False)
    said = failed.stdout + failed.stderr
    assert failed.returncode != 0 and "unhealthy" in said, failed.stdout[-3000:]
    # a raw `pulumi up` shows the provider's error and its fix, not the SDK's traceback
    assert "HealthError" in said and "fix:" in said and "Traceback" not in said, said[-3000:]
    result = load.result()
    assert result.failures == 0 and set(result.slots) == {"green"}, result
    assert node.served() == ("green", V2)
    assert docker.state(node.name("app-blue"))["Running"] is False   # stopIdleSlot: one colour runs

    node.raw.update(blue=healthy_blue, activeColor="green", health=health)
    node.write()
    node.up()
    assert node.served() == ("green", V2)
    node.ws.pulumi("preview", "--stack", node.stack, "--expect-no-changes")


def test_scripts_deploy_and_rollback_drive_the_real_cli_under_load(node: Node) -> None:
    """The operator scripts with the real CLI on PATH: a release onto the idle colour, then back.
    Blue (idle, running) is at V1 and proven: releasing V1 again would change nothing and gate
    nothing, so the release is V2 (a new blue container, gated round by round)."""
    def script(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([os.path.join(ROOT, "scripts", argv[0]), node.stack, *argv[1:], "--project-dir",
                               node.ws.project], env=node.ws.env, capture_output=True, text=True,
                              timeout=900, check=False)

    with Load(node.public_url + "/api/v1/events") as load:
        deployed = script("deploy", V2)
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
        # live progress from the Automation API's events and the gate's own rounds
        assert re.search(r"^ +✓ (create|update|replace) +\S+ +[0-9.]+s$", deployed.stdout, re.M)
        assert re.search(r"^ +│ gate +blue at v2\.0\.0:", deployed.stdout, re.M), deployed.stdout
        assert node.served() == ("blue", V2)
        rolled = script("rollback")
        assert rolled.returncode == 0, rolled.stdout[-3000:] + rolled.stderr[-3000:]
    result = load.result()
    assert result.failures == 0 and {"blue", "green"} <= set(result.slots), result
    assert node.served() == ("green", V2)
    assert docker.state(node.name("app-blue"))["Running"] is False


def test_guard_refuses_changing_the_live_colour_at_preview(node: Node) -> None:
    node.raw["green"] = {**node.raw["green"], "version": V1}
    node.write()
    try:
        refused = node.ws.pulumi("preview", "--stack", node.stack, check=False)
        assert refused.returncode != 0
        assert "live" in refused.stdout + refused.stderr
    finally:
        node.raw["green"] = {**node.raw["green"], "version": V2}
        node.write()


def test_policy_pack_passes_the_stack_and_refuses_a_moving_app_tag(node: Node) -> None:
    pack = os.path.join(node.ws.project, "policy")
    passed = node.ws.pulumi("preview", "--stack", node.stack, "--policy-pack", pack)
    assert "togather-safety" in passed.stdout, passed.stdout[-3000:]
    blue = node.raw["blue"]
    node.raw["blue"] = {**blue, "version": "v1"}   # a valid tag, but not an exact release
    node.write()
    try:
        refused = node.ws.pulumi("preview", "--stack", node.stack, "--policy-pack", pack, check=False)
        assert refused.returncode != 0
        assert "pinned-images" in refused.stdout and "the app's version must be" in refused.stdout, \
            refused.stdout[-3000:]
    finally:
        node.raw["blue"] = blue
        node.write()


def test_bad_config_is_one_clear_error_at_preview_never_a_traceback(node: Node) -> None:
    router = node.raw["router"]
    node.raw["router"] = {**router, "image": router["image"].rsplit(":", 1)[0]}   # no tag
    node.write()
    try:
        refused = node.ws.pulumi("preview", "--stack", node.stack, check=False)
        out = refused.stdout + refused.stderr
        assert refused.returncode != 0 and "router.image: must be an image pinned" in out, out[-3000:]
        assert "Traceback" not in out, out[-3000:]
    finally:
        node.raw["router"] = router
        node.write()


def test_destroy_keeps_the_database_volume_and_every_snapshot(node: Node) -> None:
    snapshots = list_snapshots(os.path.join(node.state_dir, "snapshots"))
    refused = node.ws.pulumi("destroy", "--yes", "--stack", node.stack, check=False)
    assert refused.returncode != 0 and "protected" in refused.stdout + refused.stderr
    node.ws.pulumi("destroy", "--yes", "--exclude-protected", "--stack", node.stack)
    assert docker.state(node.name("app-green")) == {} and docker.state(node.name("router")) == {}
    assert docker.exists("volume", node.name("pgdata"))
    assert list_snapshots(os.path.join(node.state_dir, "snapshots")) == snapshots
