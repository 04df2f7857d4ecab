"""Blue/green safety lint: each rule fires on the unsafe form and not on the safe one.

``tests/data/migrations/lint/<rule>.unsafe.sql`` triggers exactly that rule (on its
line 2), ``<rule>.safe.sql`` is the safe way and triggers nothing; every rule has both."""

from __future__ import annotations

import os

import pytest

from togather_deploy import ROOT
from togather_deploy.db.migrations.files import load_migrations
from togather_deploy.db.migrations.lint import lint_migrations, lint_sql
from togather_deploy.db.migrations.lint_rules import RULES
from togather_deploy.db.migrations.sql import (
    needs_no_transaction,
    split_statements,
    strip_wrapping_transaction,
)

DATA = os.path.join(ROOT, "tests", "data", "migrations")
LINT = os.path.join(DATA, "lint")
TIMEOUT = "SET lock_timeout = '5s';"  # so each case shows its own rule, not lock-timeout too


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
    findings = lint_sql("000050_x.up.sql", TIMEOUT + "\n" + sql)
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
    assert lint_sql("f.up.sql", TIMEOUT + sql) == []


def test_fixtures_safe_is_clean_and_unsafe_is_flagged() -> None:
    assert lint_migrations(load_migrations(os.path.join(DATA, "safe"))) == []
    found = lint_migrations(load_migrations(os.path.join(DATA, "unsafe")))
    assert [(f.file, f.rule) for f in found] == [
        ("000005_drop_events_description.up.sql", "drop-column"),
        ("000005_drop_events_description.up.sql", "index-not-concurrent")]


def _read(name: str) -> str:
    with open(os.path.join(LINT, name), encoding="utf-8") as fh:
        return fh.read()


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_has_a_file_that_triggers_it_and_a_safe_one(rule: str) -> None:
    (found,) = lint_sql(f"{rule}.unsafe.sql", _read(f"{rule}.unsafe.sql"))
    assert (found.rule, found.line) == (rule, 2)
    shown = str(found)
    assert shown.startswith(f"{rule}.unsafe.sql:2: [{rule}]") and RULES[rule].fix in shown
    if rule != "syntax-error":  # the message quotes the statement it is about
        assert found.statement and f"`{found.statement}`" in shown
    assert lint_sql(f"{rule}.safe.sql", _read(f"{rule}.safe.sql")) == []


@pytest.mark.parametrize("rule", sorted(set(RULES) - {"syntax-error"}))
def test_each_rule_can_be_acknowledged_in_the_file(rule: str) -> None:
    sql = _read(f"{rule}.unsafe.sql") + f"-- lint:ignore {rule}\n"
    assert lint_sql("f.up.sql", sql) == []


def test_unparseable_sql_is_a_finding_with_file_and_line_not_a_traceback() -> None:
    (found,) = lint_sql("000007_x.up.sql", "SELECT 1;\n\nALTER TABLE events ADD COLUMN;\n")
    assert found.rule == "syntax-error" and found.line == 3
    assert str(found).startswith("000007_x.up.sql:3: [syntax-error]") and 'near ";"' in str(found)


def test_the_statement_is_quoted_short_and_on_one_line() -> None:
    long = "ALTER TABLE events\n   DROP COLUMN " + "x" * 100 + ";"
    (found,) = lint_sql("f.up.sql", TIMEOUT + "\n" + long)
    assert found.statement.startswith("ALTER TABLE events DROP COLUMN xx") and "\n" not in found.statement
    assert len(found.statement) <= 70 and found.statement.endswith("…")


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
