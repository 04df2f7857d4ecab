"""A real restic REST server on loopback: Debian's ``rclone serve restic`` over a directory."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

import pytest

from testkit.ports import free_port, wait_port


@dataclass
class RestServer:
    directory: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def repository(self) -> str:
        return f"rest:http://127.0.0.1:{self.port}/"

    def start(self) -> RestServer:
        if shutil.which("rclone") is None:
            pytest.fail("rclone is not installed: run scripts/test (Debian package rclone)")
        self.proc = subprocess.Popen(["rclone", "serve", "restic", "--addr", f"127.0.0.1:{self.port}",
                                      self.directory], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
