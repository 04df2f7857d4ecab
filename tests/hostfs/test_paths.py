"""``togather_deploy.hostfs.paths``: create what is missing, check (never chmod) what exists."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from togather_deploy.db.snapshots.dump import ensure_directory
from togather_deploy.errors import EXIT_CONFIG, ConfigError
from togather_deploy.hostfs import paths as host_paths

NOBODY = 65534


def test_a_missing_directory_is_created_with_exactly_its_mode(tmp_path: Path) -> None:
    old = os.umask(0o077)  # a strict umask must not make the router's directory unreadable
    try:
        host_paths.ensure_dir(str(tmp_path / "a" / "router"), 0o755)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "router").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o755  # the parent it made, too


def test_make_dirs_gives_every_directory_it_makes_the_mode_and_leaves_existing_ones(tmp_path: Path) -> None:
    """Under ``umask 077`` the ACME webroot and the served certificate directory came out 0700:
    nginx's workers answered 404 to the CA and failed every TLS handshake."""
    os.chmod(tmp_path, 0o711)
    old = os.umask(0o077)
    try:
        host_paths.make_dirs(str(tmp_path / "acme" / ".well-known" / "acme-challenge"), 0o755)
        host_paths.make_dirs(str(tmp_path / "acme"), 0o700)  # exists: left as it is
    finally:
        os.umask(old)
    for rel in ("acme", "acme/.well-known", "acme/.well-known/acme-challenge"):
        assert stat.S_IMODE(os.stat(tmp_path / rel).st_mode) == 0o755, rel
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o711


@pytest.mark.parametrize("mode", [0o1777, 0o775])
def test_the_snapshot_directory_is_never_chmod_ed(tmp_path: Path, mode: int) -> None:
    """``snapshots.dir: /tmp`` turned drwxrwxrwt into drwx------ (os.chmod on an existing dir)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, mode)
    with pytest.raises(ConfigError) as info:
        ensure_directory(str(shared))
    assert info.value.exit_code == EXIT_CONFIG and "writable by group or others" in str(info.value)
    assert stat.S_IMODE(os.stat(shared).st_mode) == mode


def test_someone_elses_directory_is_refused_with_the_fix(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, NOBODY, NOBODY)
    with pytest.raises(ConfigError) as info:
        host_paths.ensure_dir(str(theirs), 0o700)
    text = str(info.value)
    assert f"is owned by uid {NOBODY}" in text and f"chown {os.geteuid()} {theirs}" in text
    assert os.stat(theirs).st_uid == NOBODY


def test_a_file_in_place_of_the_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="exists and is not a directory"):
        host_paths.ensure_dir(str(tmp_path / "f"), 0o700)


def test_open_file_refuses_a_symlink_and_leaves_the_target_alone(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = tmp_path / "audit.log"
    link.symlink_to(victim)
    with pytest.raises(ConfigError) as info:
        host_paths.open_file(str(link), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    assert "is a symlink" in str(info.value) and f"rm {link}" in str(info.value)
    assert victim.read_text() == "precious\n"
    fd = host_paths.open_file(str(tmp_path / "plain"), os.O_WRONLY | os.O_CREAT)
    try:
        assert os.get_inheritable(fd) is False  # O_CLOEXEC: pulumi never inherits it
    finally:
        os.close(fd)


def test_main_is_the_command_hostdirs_runs(tmp_path: Path, capsys) -> None:
    good, bad = tmp_path / "state", tmp_path / "open"
    bad.mkdir()
    os.chmod(bad, 0o777)
    assert host_paths.main([f"0700:{good}", f"0755:{good / 'router'}"]) == 0
    assert stat.S_IMODE(os.stat(good / "router").st_mode) == 0o755
    assert host_paths.main([f"0700:{bad}"]) == EXIT_CONFIG
    assert capsys.readouterr().err.startswith(f"[togather:config] {bad}: is writable")
