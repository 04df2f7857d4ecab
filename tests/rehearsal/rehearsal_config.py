"""The rehearsal's stack config: raw ``togather:`` keys, validated by ``load_config``.

Local images, free loopback ports, a state dir of its own, snapshots through
``docker exec``, and a copy of the test-data migrations a release can add to.
"""

from __future__ import annotations

import copy
import os
import secrets
import shutil
from collections.abc import Mapping
from typing import Any

from testkit.docker import ROOT
from testkit.ports import free_port
from tests.rehearsal.app_images import NGINX_JS_MODULE, RehearsalImages
from togather_deploy.config.model import DeployConfig, load_config

PROJECT = "togather-deploy"
MIGRATIONS_SRC = os.path.join(ROOT, "tests", "data", "migrations", "safe")
SECRET_KEYS = ("databasePassword", "jwtSecret", "csrfKey")


def merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` over ``base``, objects merged key by key (like ``pulumi config set --path``)."""
    out = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def initial_raw(imgs: RehearsalImages, *, state_dir: str, migrations_dir: str,
                password: str) -> dict[str, Any]:
    """Blue at v1 only, everything on free loopback ports (the router's public port too)."""
    return {
        "environment": "test", "image": imgs.app_repo, "activeColor": "blue",
        "blue": {"version": "v1", "hostPort": free_port()},
        "green": {"hostPort": free_port()},
        "publicPort": free_port(), "stateDir": state_dir,
        # the load goes through one client address (the router): no public-tier limit
        "appEnv": {"RATE_LIMIT_PUBLIC": "100000"},
        "database": {"image": imgs.postgres, "hostPort": free_port(), "memoryMb": 512},
        "router": {"image": imgs.nginx, "previewPort": free_port(), "jsModule": NGINX_JS_MODULE},
        # a subnet of its own: two stacks on one Docker engine must not overlap (the default would)
        "network": {"subnet": private_subnet()},
        "migrations": {"dir": migrations_dir},
        "snapshots": {"mode": "container"},
        "health": {"intervalSeconds": 1, "timeoutSeconds": 60, "consecutive": 2},
        "databasePassword": password, "jwtSecret": secrets.token_hex(24),
        "csrfKey": secrets.token_hex(24),
    }


def load(raw: Mapping[str, Any], *, stack: str, project_dir: str) -> DeployConfig:
    return load_config(raw, project=PROJECT, stack=stack, project_dir=project_dir,
                       secret_keys=SECRET_KEYS)


def copy_migrations(directory: str, upto: int) -> list[str]:
    """Ship the test-data migrations up to version ``upto`` (a release adds files)."""
    added = []
    for name in sorted(os.listdir(MIGRATIONS_SRC)):
        if int(name.split("_", 1)[0]) <= upto and not os.path.exists(os.path.join(directory, name)):
            shutil.copy(os.path.join(MIGRATIONS_SRC, name), directory)
            added.append(name)
    return added


def private_subnet() -> str:
    """A /24 of its own for one test stack: two stacks on one Docker engine must not overlap."""
    return f"10.{100 + secrets.randbelow(150)}.{secrets.randbelow(256)}.0/24"
