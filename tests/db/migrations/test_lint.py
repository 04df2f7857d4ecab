"""Blue/green safety lint: each rule fires on the unsafe form and not on the safe one."""

from __future__ import annotations

import os

import pytest

from togather_deploy import ROOT
from togather_deploy.db.migrations.files import load_migrations
from togather_deploy.db.migrations.lint import lint_migrations, lint_sql
from togather_deploy.db.migrations.sql import (
    needs_no_transaction,
    split_statements,
    strip_wrapping_transaction,
)

DATA = os.path.join(ROOT, "tests", "data", "migrations")


@pytest.mark.parametrize("sql, rule", [
    ("DROP TABLE events;", "drop-table"),
    ("ALTER TABLE events DROP COLUMN description;", "drop-column"),
    ("alter table public.events drop legacy;", "drop-column"),
    ("ALTER TABLE events RENAME COLUMN name TO title;", "rename"),
    ("ALTER TABLE events RENAME TO happenings;", "rename"),
    ("ALTER TABLE events ALTER COLUMN name TYPE varchar(80);", "column-type"),
    ("ALTER TABLE events ALTER name SET DATA TYPE varchar(80);", "column-type"),
    ("ALTER TABLE events ADD COLUMN venue text NOT NULL;", "not-null-no-default"),
    ("ALTER TABLE events ALTER COLUMN name SET NOT NULL;", "set-not-null"),
    ("CREATE INDEX events_x ON events (name);", "index-not-concurrent"),
    ("CREATE UNIQUE INDEX IF NOT EXISTS events_x ON public.events (name);", "index-not-concurrent"),
    ("ALTER TABLE events ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES places (id);",
     "constraint-validation"),
    ("TRUNCATE events;", "truncate"),
])
def test_unsafe_statements_are_flagged(sql: str, rule: str) -> None:
    findings = lint_sql("000050_x.up.sql", "-- header\n" + sql)
    assert [f.rule for f in findings] == [rule]
    assert findings[0].line == 2 and "000050_x.up.sql:2" in str(findings[0])


@pytest.mark.parametrize("sql", [
    "ALTER TABLE events ADD COLUMN venue text;",
    "ALTER TABLE events ADD COLUMN venue text NOT NULL DEFAULT 'x';",
    "ALTER TABLE events DROP CONSTRAINT fk;",
    "ALTER TABLE events ALTER COLUMN name DROP NOT NULL;",
    "CREATE INDEX CONCURRENTLY events_x ON events (name);",
    "ALTER TABLE events ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES places (id) NOT VALID;",
    "CREATE TABLE t (id int); CREATE INDEX t_idx ON t (id); ALTER TABLE t ADD COLUMN n int NOT NULL;",
    "SELECT 'DROP TABLE events;';",
    "-- DROP TABLE events;\nSELECT 1;",
    "-- lint:ignore drop-column\nALTER TABLE events DROP COLUMN legacy;",
])
def test_safe_statements_pass(sql: str) -> None:
    assert lint_sql("f.up.sql", sql) == []


def test_fixtures_safe_is_clean_and_unsafe_is_flagged() -> None:
    assert lint_migrations(load_migrations(os.path.join(DATA, "safe"))) == []
    found = lint_migrations(load_migrations(os.path.join(DATA, "unsafe")))
    assert [(f.file, f.rule) for f in found] == [
        ("000005_drop_events_description.up.sql", "drop-column"),
        ("000005_drop_events_description.up.sql", "index-not-concurrent")]


def test_splitter_respects_quotes_comments_and_dollar_bodies() -> None:
    sql = ("CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n"
           "/* a; /* nested; */ still; */ SELECT 'a;b', E'it\\'s;', \"we;ird\";\n"
           "-- trailing; comment\n")
    stmts = split_statements(sql)
    assert len(stmts) == 2
    assert stmts[1].line == 2 and stmts[1].code.startswith("SELECT 'a;b'")


def test_transaction_classification() -> None:
    body, other = strip_wrapping_transaction(split_statements("BEGIN;\nSELECT 1;\nCOMMIT;"))
    assert [s.code for s in body] == ["SELECT 1"] and not other
    _, other = strip_wrapping_transaction(split_statements("SELECT 1; COMMIT; SELECT 2;"))
    assert other
    assert needs_no_transaction(split_statements("CREATE INDEX CONCURRENTLY i ON t (a);")) is not None
    assert needs_no_transaction(split_statements("CREATE INDEX i ON t (a);")) is None
