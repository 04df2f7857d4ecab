"""The images a rehearsal runs: the locally built bases plus the demo app at each version.

The demo app is built from ``demo-app/Dockerfile`` on the local python base
(``--build-arg BASE_IMAGE=...``), once per version it must answer with. Docker's
layer cache makes a rebuild of unchanged sources take a second.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from testkit import images
from togather_deploy.commands import runner

APP_REPO = "togather-rehearsal/demo-app"
DEMO_APP_DIR = os.path.join(images.ROOT, "demo-app")
NGINX_JS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"


@dataclass(frozen=True)
class RehearsalImages:
    postgres: str
    nginx: str
    python: str
    app_repo: str
    app_versions: Mapping[str, str]
    """Image tag → the version that image answers with on ``/version`` and ``/health``."""
    seconds: Mapping[str, float]


def build_app(tag: str, answers: str) -> None:
    """``APP_REPO:tag`` answering ``answers``; rebuilt every time (cheap: layer cache)."""
    base = images.planned_tags()["python"]
    argv = images.build_argv(f"{APP_REPO}:{tag}", DEMO_APP_DIR,
                             build_args={"BASE_IMAGE": base, "VERSION": answers,
                                         "GIT_COMMIT": f"rehearsal-{answers}"})
    runner.run(argv, timeout=600, what=f"docker build {APP_REPO}:{tag}")


def ensure_images(app_versions: Mapping[str, str]) -> RehearsalImages:
    """Base images (cached by tag) and the demo app tags; raises ``ImageBuildError``/``DeployError``."""
    built = images.ensure_base_images()
    seconds = dict(built.seconds)
    started = time.monotonic()
    for tag, answers in app_versions.items():
        build_app(tag, answers)
    seconds["demo-app"] = round(time.monotonic() - started, 1)
    return RehearsalImages(postgres=built.tags["postgres"], nginx=built.tags["nginx"],
                           python=built.tags["python"], app_repo=APP_REPO,
                           app_versions=dict(app_versions), seconds=seconds)
