"""docs/backups.md's "the server burned down" runbook, rehearsed: after a backup, the state dir,
the snapshots, the stack files and the Pulumi file backend are deleted; step 2's ``restic``
commands, read from the runbook itself, bring them back byte for byte to the paths they came
from; step 4's ``backup restore`` and ``backup drill`` bring the database back. Real PostgreSQL,
restic and a REST server. Step 3 (``pulumi up --refresh``) is not run here: what it writes
that step 4 needs, the backup's 0600 files, is written as ``BackupSecrets`` writes it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from testkit.fake_pulumi import write_stack
from testkit.restic_server import RestServer
from togather_deploy import ROOT
from togather_deploy.cli.backup import main
from togather_deploy.ops import backup_files as files

PASSWORD = "runbook password 5678"
pytestmark = pytest.mark.postgres


def runbook_step(n: int) -> list[str]:
    """The ``restic`` commands of step ``n``'s code block in docs/backups.md."""
    text = Path(ROOT, "docs", "backups.md").read_text(encoding="utf-8")
    book = text[text.index("## Runbook: the server burned down"):]
    step = book[book.index(f"\n{n}. "):]
    block = re.search(r"```bash\n(.*?)```", step, re.S)
    assert block is not None, f"step {n} of the runbook has no bash block"
    return [line for line in block.group(1).splitlines() if line.startswith("restic ")]


def digests(*roots: str) -> dict[str, str]:
    out = {}
    for root in roots:
        for top, _dirs, names in os.walk(root):
            for name in names:
                path = os.path.join(top, name)
                out[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return out


@pytest.fixture
def rest(tmp_path: Any) -> Iterator[RestServer]:
    server = RestServer(str(tmp_path / "rest")).start()
    yield server
    server.stop()


def test_the_burned_server_runbook_restores_files_state_and_database(
        database_url: str, tmp_path: Any, rest: RestServer) -> None:
    root = str(tmp_path / "node")
    project, state, snaps = (os.path.join(root, d) for d in ("project", "state", "snaps"))
    backend = os.path.join(root, "pulumi-state")
    write_stack(project, "production", {
        "image": "ghcr.io/togather-foundation/server", "environment": "development",
        "blue": {"version": "v1.0.0"}, "stateDir": state, "snapshots": {"dir": snaps, "mode": "host"},
        "backup": {"repository": rest.repository, "password": {"secure": "v1:encrypted"}}})
    stack_state = Path(backend, ".pulumi", "stacks", "togather-deploy", "production.json")
    stack_state.parent.mkdir(parents=True)
    stack_state.write_text('{"checkpoint": {"latest": {"resources": []}}}\n')
    files.write_secrets(state, PASSWORD, {}, database_url=database_url)
    env = {"HOME": root, "PATH": os.environ["PATH"], "PULUMI_BACKEND_URL": f"file://{backend}"}

    def backup(*args: str) -> dict[str, Any]:
        out, err = io.StringIO(), io.StringIO()
        rc = main([*args, "--stack", "production", "--project-dir", project, "--json"],
                  stdin=io.StringIO(""), out=out, err=err, env=env)
        assert rc == 0, err.getvalue()
        return dict(json.loads(out.getvalue()))

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id int PRIMARY KEY, title text)")
        conn.execute("INSERT INTO events SELECT g, 'event ' || g FROM generate_series(1, 5000) g")
    snap = backup("snapshot")["snapshot"]
    backup("run")
    before = digests(project, snaps, backend)

    # the server burned down: the disk and the database are gone
    for gone in (project, state, snaps, backend):
        shutil.rmtree(gone)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE events")

    # step 2, as written: the password in a root-only file, the repository, then restic
    password_file = tmp_path / "restic-password"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    restic_env = {**env, "RESTIC_PASSWORD_FILE": str(password_file), "RESTIC_REPOSITORY": rest.repository}
    commands = runbook_step(2)
    assert [c.split()[:2] for c in commands] == [["restic", "snapshots"], ["restic", "restore"]]
    for command in commands:
        argv = shlex.split(command)
        done = subprocess.run(argv, env=restic_env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, (command, done.stderr)
    assert digests(project, snaps, backend) == before  # every file back, byte for byte

    # step 3 (pulumi up --refresh) writes the backup's files again from the restored state
    files.write_secrets(state, PASSWORD, {}, database_url=database_url)
    # step 4: the snapshot is already local; restore it, then drill
    restored = backup("restore", snap, "--yes")
    assert restored["fetched"] is False
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    assert row is not None and row[0] == 5000
    assert backup("drill")["verb"] == "drill"
