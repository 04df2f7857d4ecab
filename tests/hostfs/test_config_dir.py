"""``config_dir.on_host``: what a refresh reads back, through links planted in the directory."""

from __future__ import annotations

import os
from pathlib import Path

from togather_deploy.hostfs.config_dir import digests, on_host, write_files


def test_on_host_reads_only_regular_files_inside_the_directory_with_their_mode(tmp_path: Path) -> None:
    directory, outside = tmp_path / "prometheus", tmp_path / "elsewhere"
    write_files(str(directory), {"prometheus.yml": "a: 1\n", "rules/t.yml": "g\n"}, 0o640)
    assert on_host(str(directory), "prometheus.yml", 0o640) == digests({"x": "a: 1\n"})["x"]
    assert on_host(str(directory), "prometheus.yml", 0o644) == ""  # its mode was changed
    assert on_host(str(directory), "missing.yml") == ""
    outside.mkdir()
    (outside / "t.yml").write_text("g\n")
    os.chmod(outside / "t.yml", 0o640)
    (directory / "rules" / "t.yml").unlink()
    (directory / "rules").rmdir()
    (directory / "rules").symlink_to(outside)  # a directory link out: the same text, not ours
    assert on_host(str(directory), "rules/t.yml", 0o640) == ""
    (directory / "rules").unlink()
    (directory / "rules").mkdir()
    (directory / "rules" / "t.yml").mkdir()  # a directory where the file was
    assert on_host(str(directory), "rules/t.yml") == ""
