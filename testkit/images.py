"""Base images for the release rehearsal, built locally (no registry), cached by tag.

Nothing can be pulled here, so one ``debootstrap --variant=minbase`` of Debian
bookworm is imported as ``togather-base/minbase``; small Dockerfiles under
``tests/rehearsal/images/`` layer ``python``, ``postgres`` and ``nginx`` on top
with apt (``docker build --network host``: no NAT needed). Each tag carries a
hash of everything that made the image (suite, mirror, packages, Dockerfile
directory, base tag), so a change rebuilds and an unchanged machine builds
nothing: the first run takes about a minute, later runs milliseconds.

    venv/bin/python -m testkit.images      # build what is missing, print JSON
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from togather_deploy import ROOT

IMAGES_DIR = os.path.join(ROOT, "tests", "rehearsal", "images")
SUITE = "bookworm"
MIRROR = os.environ.get("TOGATHER_DEBIAN_MIRROR", "http://deb.debian.org/debian")
MINBASE_INCLUDE = ("ca-certificates",)
LAYERS = ("python", "postgres", "nginx")
# Containers have no init system: package scripts must not try to start services.
POLICY_RC_D = "#!/bin/sh\nexit 101\n"


class ImageBuildError(RuntimeError):
    """An image could not be built; the message says which step and why."""


@dataclass(frozen=True)
class BuiltImages:
    tags: Mapping[str, str]
    """``python`` / ``postgres`` / ``nginx`` / ``minbase`` → ``repo:tag``."""
    seconds: Mapping[str, float]
    """Build time per image in this run (0 when the cached tag was reused)."""


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:12]


def _dir_digest(path: str) -> str:
    parts: list[str] = []
    for dirpath, _, files in sorted(os.walk(path)):
        for name in sorted(files):
            full = os.path.join(dirpath, name)
            with open(full, "rb") as fh:
                parts.append(f"{os.path.relpath(full, path)}:{os.access(full, os.X_OK)}:"
                             f"{hashlib.sha256(fh.read()).hexdigest()}")
    return _digest(*parts)


def minbase_tag() -> str:
    return f"togather-base/minbase:{SUITE}-{_digest(SUITE, MIRROR, *MINBASE_INCLUDE, POLICY_RC_D)}"


def layer_tag(name: str, base: str) -> str:
    return f"togather-base/{name}:{SUITE}-{_digest(base, _dir_digest(os.path.join(IMAGES_DIR, name)))}"


def planned_tags() -> dict[str, str]:
    """The tags this checkout needs, without building anything."""
    base = minbase_tag()
    return {"minbase": base, **{name: layer_tag(name, base) for name in LAYERS}}


def debootstrap_argv(rootfs: str) -> tuple[str, ...]:
    return ("debootstrap", "--variant=minbase", f"--include={','.join(MINBASE_INCLUDE)}",
            SUITE, rootfs, MIRROR)


def import_argv(tag: str) -> tuple[str, ...]:
    return ("docker", "import", "--change", 'CMD ["/bin/bash"]', "-", tag)


def build_argv(tag: str, context: str, *, build_args: Mapping[str, str] | None = None,
               dockerfile: str | None = None) -> tuple[str, ...]:
    argv = ["docker", "build", "--network", "host", "-q", "-t", tag]
    for name, value in sorted((build_args or {}).items()):
        argv += ["--build-arg", f"{name}={value}"]
    if dockerfile:
        argv += ["-f", dockerfile]
    return (*argv, context)


def image_exists(tag: str) -> bool:
    proc = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", tag],
                          capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode == 0


def _run(argv: Sequence[str], what: str, timeout: float) -> None:
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ImageBuildError(f"{what}: {exc}") from exc
    if proc.returncode != 0:
        raise ImageBuildError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")


def _build_minbase(tag: str) -> None:
    with tempfile.TemporaryDirectory(prefix="togather-minbase-") as tmp:
        rootfs = os.path.join(tmp, "rootfs")
        _run(debootstrap_argv(rootfs), f"debootstrap {SUITE} from {MIRROR}", timeout=900)
        policy = os.path.join(rootfs, "usr", "sbin", "policy-rc.d")
        with open(policy, "w") as fh:
            fh.write(POLICY_RC_D)
        os.chmod(policy, 0o755)
        tar = subprocess.Popen(["tar", "-C", rootfs, "--numeric-owner", "-c", "."],
                               stdout=subprocess.PIPE)
        try:
            proc = subprocess.run(import_argv(tag), stdin=tar.stdout, capture_output=True,
                                  text=True, timeout=600, check=False)
        finally:
            assert tar.stdout is not None
            tar.stdout.close()
            tar.wait(timeout=60)
        if proc.returncode != 0 or tar.returncode != 0:
            raise ImageBuildError(f"docker import {tag} failed: {proc.stderr.strip()[-1500:]}")


def build_image(tag: str, context: str, *, build_args: Mapping[str, str] | None = None,
                dockerfile: str | None = None, timeout: float = 900) -> float:
    """``docker build`` ``context`` as ``tag`` unless it exists; returns seconds spent."""
    if image_exists(tag):
        return 0.0
    started = time.monotonic()
    _run(build_argv(tag, context, build_args=build_args, dockerfile=dockerfile),
         f"docker build {tag}", timeout=timeout)
    return round(time.monotonic() - started, 1)


def ensure_base_images() -> BuiltImages:
    """Build every missing base image (cached by tag); raise ``ImageBuildError`` with the reason."""
    tags = planned_tags()
    seconds: dict[str, float] = {"minbase": 0.0}
    if not image_exists(tags["minbase"]):
        started = time.monotonic()
        _build_minbase(tags["minbase"])
        seconds["minbase"] = round(time.monotonic() - started, 1)
    for name in LAYERS:
        seconds[name] = build_image(tags[name], os.path.join(IMAGES_DIR, name),
                                    build_args={"BASE": tags["minbase"]})
    return BuiltImages(tags=tags, seconds=seconds)


def main() -> int:
    try:
        built = ensure_base_images()
    except ImageBuildError as exc:
        print(f"cannot build the base images: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"tags": dict(built.tags), "seconds": dict(built.seconds)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
