"""docs/backups.md's "the server burned down", steps 3 and 4, with the real engine and Docker.

After ``pulumi up`` and a snapshot holding a row, the host burns: every container, the network,
the database volume and every file of the state directory but the snapshots are gone (what
step 2 restores from the repository is the snapshots and the stack file). Step 3 as documented:
a new, empty file backend, ``pulumi stack init`` with the restored stack file, ``pulumi up``;
step 4: ``snapshot restore``. The node serves again and the row is back.

A ``pulumi up --refresh`` with the old state restored does not rebuild a host (tried here on
2026-12-03): the refresh finds the containers gone, but the host directories, router files and
active colour that ``HostDirs`` and the dynamic providers wrote are recorded as present, so the
router cannot start (its bind-mount source is missing); forcing those to be replaced then
failed at the gate against the empty database. The runbook uses a new state instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import psycopg
import pytest

from testkit.engine import ROOT, Engine
from tests.engine.node import V1, Node, started_node

pytestmark = [pytest.mark.engine, pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def node(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from started_node(engine, tmp_path_factory)


def _snapshot(node: Node, *argv: str) -> subprocess.CompletedProcess[str]:
    url_file = os.path.join(node.ws.project, "..", "database-url")
    with open(os.open(url_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
        fh.write(node.ws.outputs(node.stack, show_secrets=True)["databaseHostUrl"] + "\n")
    done = subprocess.run([os.path.join(ROOT, "scripts", "snapshot"), "--database-url-file", url_file,
                           "--dir", os.path.join(node.state_dir, "snapshots"), *argv],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _burn(node: Node) -> None:
    node.cleanup()  # containers, network and the (protected) database volume
    for name in os.listdir(node.state_dir):
        if name != "snapshots":  # what the repository gives back (step 2) stays
            path = os.path.join(node.state_dir, name)
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)
    shutil.rmtree(node.ws.backend)
    os.makedirs(node.ws.backend)  # step 3: a new, empty file backend


def test_a_burned_host_comes_back_from_the_stack_file_and_a_snapshot(node: Node) -> None:
    node.up()
    with psycopg.connect(node.ws.outputs(node.stack, show_secrets=True)["databaseHostUrl"]) as conn:
        conn.execute("INSERT INTO events (name, starts_at) VALUES ('survives the fire', now())")
    _snapshot(node, "create", "--app-version", V1, "--reason", "before the fire")
    name = sorted(f for f in os.listdir(os.path.join(node.state_dir, "snapshots"))
                  if f.endswith(".sql.gz"))[-1]  # the newest: names start with a UTC timestamp
    _burn(node)

    node.ws.pulumi("stack", "init", node.stack)  # the restored Pulumi.<stack>.yaml: salt, secrets
    up = node.up()
    assert "created" in up.stdout and node.served() == ("blue", V1)
    _snapshot(node, "restore", name, "--yes")
    with psycopg.connect(node.ws.outputs(node.stack, show_secrets=True)["databaseHostUrl"]) as conn:
        rows = conn.execute("SELECT count(*) FROM events WHERE name = 'survives the fire'").fetchone()
    assert rows == (1,)
    assert node.served() == ("blue", V1)
