"""HostSchedule over the wire like the engine, and Debian's real cron running what it installs.

What this proves: check/diff are pure and refuse what cron would ignore; create/update write the
file atomically, 0644, owned by root; delete removes that file only; and (slow) Debian's
``cron`` daemon accepts the rendered file — name, owner, mode, SHELL/PATH lines, quoting, ``\\%``
escaping, ``flock`` — by actually running a job from it into its log.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from components.providers.host_schedule import HostScheduleProvider, digest
from testkit.provider_wire import UNKNOWN, ProviderWire
from togather_deploy.render.schedule import CRON_DIR, ScheduledJob, cron_file_name, render_cron

P = HostScheduleProvider()
TEXT = "# test\nSHELL=/bin/sh\n"


def test_check_refuses_what_cron_ignores(wire: ProviderWire, tmp_path: Any) -> None:
    for path, text in ((f"{tmp_path}/togather-prod.eu", TEXT), ("relative/togather", TEXT),
                       (f"{tmp_path}/togather-prod", "no newline")):
        checked = wire.check(P, {}, {"path": path, "text": text})
        assert checked.failures, (path, text)
    assert not wire.check(P, {}, {"path": f"{tmp_path}/togather-prod", "text": TEXT}).failures


def test_diff_is_pure_and_sees_unknowns(preview_wire: ProviderWire, tmp_path: Any) -> None:
    path = f"{tmp_path}/togather-prod"
    olds = {"path": path, "digest": digest(TEXT)}
    assert not preview_wire.diff(P, path, olds, {"path": path, "text": TEXT}).changes
    assert preview_wire.diff(P, path, olds, {"path": path, "text": TEXT + "# more\n"}).changes
    assert preview_wire.diff(P, path, olds, {"path": path, "text": UNKNOWN}).changes
    moved = preview_wire.diff(P, path, olds, {"path": f"{tmp_path}/togather-x", "text": TEXT})
    assert "path" in moved.replaces
    assert not os.path.exists(path)


def test_create_update_delete_only_that_file(wire: ProviderWire, tmp_path: Any) -> None:
    path = f"{tmp_path}/togather-prod"
    neighbour = tmp_path / "e2scrub_all"
    neighbour.write_text("keep me\n")
    old_umask = os.umask(0o077)  # a strict umask must not change the file's 0644
    try:
        created = wire.create(P, {"path": path, "text": TEXT})
    finally:
        os.umask(old_umask)
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o644 and Path(path).read_text() == TEXT
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (0, 0)
    wire.update(P, path, created.outs, {"path": path, "text": TEXT + "# v2\n"})
    assert Path(path).read_text().endswith("# v2\n")
    assert sorted(os.listdir(tmp_path)) == ["e2scrub_all", "togather-prod"]
    wire.delete(P, path, {"path": path, "digest": digest(TEXT)})
    assert os.listdir(tmp_path) == ["e2scrub_all"]
    wire.delete(P, path, {"path": path, "digest": digest(TEXT)})  # already gone: fine


def test_refresh_sees_a_lost_or_ignored_file_and_the_next_update_writes_it(wire: ProviderWire,
                                                                           tmp_path: Any) -> None:
    """A targeted refresh (``read``) records the digest of what cron would read; ``read``
    never writes; the pure ``diff`` then sees the difference."""
    path = f"{tmp_path}/togather-prod"
    props = {"path": path, "text": TEXT}
    created = wire.create(P, props).outs
    assert wire.read(P, path, created).outs == created
    assert not wire.diff(P, path, created, props).changes
    os.chmod(path, 0o600)  # cron would read it, but it is not the mode we write: written again
    assert wire.read(P, path, created).outs["digest"] == ""
    os.chmod(path, 0o666)  # cron skips a group/other-writable cron.d file: as good as absent
    ignored = wire.read(P, path, created).outs
    assert ignored["digest"] == "" and wire.diff(P, path, ignored, props).changes
    os.unlink(path)
    lost = wire.read(P, path, created).outs
    assert lost["digest"] == "" and not os.path.exists(path)
    assert wire.diff(P, path, lost, props).changes
    again = wire.update(P, path, lost, props).outs
    assert Path(path).read_text() == TEXT and stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert not wire.diff(P, path, wire.read(P, path, again).outs, props).changes


@pytest.mark.slow
def test_debian_cron_runs_a_job_from_the_installed_file(wire: ProviderWire, tmp_path: Any) -> None:
    if os.geteuid() != 0 or shutil.which("cron") is None or not os.path.isdir(CRON_DIR):
        pytest.skip("needs root and Debian's cron (apt-get install cron)")
    stack = f"test-{uuid.uuid4().hex[:8]}"
    state = str(tmp_path / "state")
    os.makedirs(f"{state}/backup/logs")
    marker = str(tmp_path / "fired")
    now = datetime.now()
    at = now + timedelta(minutes=2 if now.second > 45 else 1)
    job = ScheduledJob("probe", f"{at.minute} {at.hour} * * *",
                       ("sh", "-c", f"date +%s > {marker}; echo ran-100% in $PWD"), "cron probe")
    path = os.path.join(CRON_DIR, cron_file_name(stack))
    wire.create(P, {"path": path, "text": render_cron(stack, [job], project_dir=str(tmp_path),
                                                       state_dir=state)})
    daemon = None
    try:
        if subprocess.run(["pgrep", "-x", "cron"], capture_output=True).returncode != 0:
            daemon = subprocess.Popen(["cron", "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 200
        while time.time() < deadline and not os.path.exists(marker):
            time.sleep(1)
        assert os.path.exists(marker), "cron did not run the job"
        time.sleep(1)
        log = Path(f"{state}/backup/logs/probe.log").read_text()
        assert f"ran-100% in {tmp_path}" in log  # \% reached the shell as %; cd worked
    finally:
        wire.delete(P, path, {"path": path})
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=10)
    assert not os.path.exists(path)
