"""demo-app/migrations (the dev stack's) are real: they load, pass the blue/green lint, apply on
PostgreSQL 15 + PostGIS with the project's runner, and leave the demo app healthy."""

from __future__ import annotations

import os

import psycopg
import pytest

from testkit.demo_app import DEMO_APP_DIR, get_json
from tests.demo_app.conftest import StartApp
from togather_deploy.db.migrations.apply import migrate_up
from togather_deploy.db.migrations.files import load_migrations
from togather_deploy.db.migrations.lint import lint_sql

MIGRATIONS = os.path.join(DEMO_APP_DIR, "migrations")


def test_layout_and_lint() -> None:
    migrations = load_migrations(MIGRATIONS)
    assert [m.version for m in migrations] == [1, 2, 3, 4]
    for name in sorted(os.listdir(MIGRATIONS)):
        if name.endswith(".up.sql"):
            with open(os.path.join(MIGRATIONS, name), encoding="utf-8") as fh:
                findings = lint_sql(name, fh.read())
            assert findings == [], findings


@pytest.mark.postgres
def test_they_apply_and_the_app_is_healthy(start_app: StartApp, database_url: str) -> None:
    migrate_up(database_url, load_migrations(MIGRATIONS))
    with psycopg.connect(database_url, autocommit=True) as conn:
        extensions = {r[0] for r in conn.execute("SELECT extname FROM pg_extension").fetchall()}
        assert {"pgcrypto", "pg_trgm", "postgis"} <= extensions
        conn.execute("INSERT INTO places (name, location) VALUES "
                     "('Hall', ST_GeogFromText('POINT(-75.69 45.42)'))")
        conn.execute("CREATE TABLE river_job (id bigserial PRIMARY KEY)")
    app = start_app(migrated=False)
    status, body, _ = get_json(app.url + "/health")
    assert (status, body["status"]) == (200, "healthy")
    assert body["checks"]["migrations"]["message"] == "schema at version 4"
