"""Blue/green safety lint for migrations: the old colour keeps running on the new schema.

During a release the previous version still serves traffic (and may be switched
back to) while the new schema is in place, so a migration must be *expand-only*:
add, never take away or change what running code relies on, and never hold a
long exclusive lock on a live table. Each rule flags one statement with the
file, line, what breaks and the safe alternative.

A finding can be acknowledged in the file itself, for a migration that is safe
for a reason the linter cannot see (the column was unused for two releases):
``-- lint:ignore drop-column`` anywhere in the file silences that rule there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from togather_deploy.db.migrations.files import Migration
from togather_deploy.db.migrations.sql import Statement, split_statements

_I = re.IGNORECASE | re.DOTALL
_IDENT = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)'
_QNAME = rf"(?:{_IDENT}\.)?{_IDENT}"
_ALTER_TABLE = rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{_QNAME})\s+"
_IGNORE = re.compile(r"--\s*lint:ignore\s+([a-z0-9, -]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: [{self.rule}] {self.message} (safer: {self.fix})"


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    message: str
    fix: str


def _rule(name: str, pattern: str, message: str, fix: str) -> _Rule:
    return _Rule(name, re.compile(pattern, _I), message, fix)


RULES = (
    _rule("drop-table", r"^DROP\s+TABLE\b", "drops a table the old colour may still read",
          "stop using it in one release, drop it in a later one"),
    _rule("drop-column", _ALTER_TABLE + r".*\bDROP\s+(COLUMN\s+)?(?!CONSTRAINT\b|DEFAULT\b|NOT\s+NULL\b"
          r"|IDENTITY\b|EXPRESSION\b)",
          "drops a column the old colour may still read or write",
          "stop using it in one release, drop it in a later one"),
    _rule("rename", r"^ALTER\s+(TABLE|VIEW|MATERIALIZED\s+VIEW)\b.*\bRENAME\b",
          "renames a table or column the old colour still uses by its old name",
          "add the new name, copy and dual-write, drop the old one in a later release"),
    _rule("column-type", _ALTER_TABLE + r".*\bALTER\s+(COLUMN\s+)?" + _IDENT + r"\s+(SET\s+DATA\s+)?TYPE\b",
          "changes a column type: rewrites the table under an exclusive lock and can break old code",
          "add a new column of the new type and backfill it"),
    _rule("not-null-no-default", _ALTER_TABLE + r".*\bADD\s+(COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
          + _IDENT + r"\s+(?:(?!\bDEFAULT\b).)*\bNOT\s+NULL\b(?:(?!\bDEFAULT\b).)*$",
          "adds a NOT NULL column without a default: the old colour's INSERTs will fail",
          "add it with a DEFAULT, or nullable first"),
    _rule("set-not-null", _ALTER_TABLE + r".*\bALTER\s+(COLUMN\s+)?" + _IDENT + r"\s+SET\s+NOT\s+NULL\b",
          "makes a column NOT NULL: scans the table under an exclusive lock; old code may write NULLs",
          "add a CHECK (col IS NOT NULL) NOT VALID constraint, then VALIDATE it"),
    _rule("index-not-concurrent", rf"^CREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY\b)"
          rf"(?:IF\s+NOT\s+EXISTS\s+)?(?:{_IDENT}\s+)?ON\s+(?:ONLY\s+)?(?P<table>{_QNAME})",
          "builds an index on an existing table without CONCURRENTLY: blocks writes while it builds",
          "CREATE INDEX CONCURRENTLY in a migration file of its own"),
    _rule("constraint-validation", _ALTER_TABLE + r".*\bADD\s+(CONSTRAINT\s+" + _IDENT
          + r"\s+)?(FOREIGN\s+KEY|CHECK)\b(?!.*\bNOT\s+VALID\b)",
          "adds a constraint that is validated under a lock while the table is scanned",
          "ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT in a later migration"),
    _rule("truncate", r"^TRUNCATE\b", "deletes all rows the old colour is serving",
          "delete in batches, or keep the data"),
)

_CREATED = re.compile(rf"^CREATE\s+(?:UNLOGGED\s+|TEMP\s+|TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                      rf"(?P<table>{_QNAME})", _I)


def _bare(name: str) -> str:
    return name.split(".")[-1].strip('"').lower()


def lint_sql(file: str, sql: str) -> list[Finding]:
    """Findings for one migration file's text."""
    ignored = {r.strip() for m in _IGNORE.finditer(sql) for r in re.split(r"[,\s]+", m.group(1)) if r}
    created: set[str] = set()
    findings = []
    for stmt in split_statements(sql):
        made = _CREATED.match(stmt.code)
        if made:
            created.add(_bare(made.group("table")))
        for rule in RULES:
            if rule.name in ignored:
                continue
            match = rule.pattern.match(stmt.code)
            if match is None or _new_table(match, created):
                continue
            findings.append(Finding(file, stmt.line, rule.name, rule.message, rule.fix))
    return findings


def _new_table(match: re.Match[str], created: set[str]) -> bool:
    """Changes to a table created in the same file cannot hurt running code."""
    table = match.groupdict().get("table")
    return table is not None and _bare(table) in created


def lint_migrations(migrations: list[Migration]) -> list[Finding]:
    return [f for m in migrations for f in lint_sql(m.up_name, m.up_sql)]


def statement_at(sql: str, line: int) -> Statement | None:
    """The statement starting at or spanning ``line`` (for error messages)."""
    best = None
    for stmt in split_statements(sql):
        if stmt.line <= line:
            best = stmt
    return best
