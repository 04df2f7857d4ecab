"""Demo-app fixtures. Its modules are plain scripts in demo-app/ (not a package): import them from there."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest

from testkit.demo_app import DEMO_APP_DIR, DemoApp, prepare_database, start_demo_app
from testkit.ports import free_port

if DEMO_APP_DIR not in sys.path:
    sys.path.insert(0, DEMO_APP_DIR)

StartApp = Callable[..., DemoApp]


@pytest.fixture
def start_app(database_url: str) -> Iterator[StartApp]:
    """Start demo servers on a fresh database (migrated unless told otherwise); stopped after."""
    started: list[DemoApp] = []

    def start(*, migrated: bool = True, **kwargs: object) -> DemoApp:
        if migrated:
            prepare_database(database_url)
        kwargs.setdefault("version", "v1.0.0")
        kwargs.setdefault("slot", "blue")
        kwargs.setdefault("database_url", database_url)
        app = start_demo_app(port=free_port(), **kwargs)  # type: ignore[arg-type]
        started.append(app)
        return app

    yield start
    for app in started:
        app.kill()
