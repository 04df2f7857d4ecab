"""Blue/green safety lint for migrations: the old colour keeps running on the new schema.

During a release the previous version still serves traffic (and may be switched
back to) while the new schema is in place, so a migration must be *expand-only*:
add, never take away or change what running code relies on, and never hold a
long exclusive lock on a live table. Each finding names the file, the line, the
statement, what breaks and the safe alternative; the rules are in ``lint_rules``.

The SQL is parsed by PostgreSQL's own parser (``pglast``, libpg_query of
PostgreSQL 18, a superset of the 15 the stack runs), not matched with regexes:
quoting, comments, dollar bodies and odd spacing cannot hide or fake a
statement. A file the parser rejects yields one ``syntax-error`` finding with
its line, never an exception.

A finding can be acknowledged in the file itself, for a migration that is safe
for a reason the linter cannot see (the column was unused for two releases):
``-- lint:ignore drop-column`` anywhere in the file silences that rule there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pglast import parse_sql
from pglast.parser import ParseError

from togather_deploy.db.migrations.files import Migration
from togather_deploy.db.migrations.lint_rules import RULES, FileState, check, remember

_IGNORE = re.compile(r"--\s*lint:ignore\s+([a-z0-9, -]+)", re.IGNORECASE)
_SHOWN = 70
"""Characters of the statement quoted in a finding (its first line is usually enough)."""


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    message: str
    fix: str
    statement: str = ""
    """The start of the offending statement, whitespace collapsed."""

    def __str__(self) -> str:
        where = f" `{self.statement}`:" if self.statement else ""
        return f"{self.file}:{self.line}: [{self.rule}]{where} {self.message} (safer: {self.fix})"


def _line(sql: str, offset: int) -> int:
    return sql.count("\n", 0, max(offset, 0)) + 1


def _shown(sql: str, start: int, length: int) -> str:
    text = " ".join(sql[start:start + length if length else len(sql)].split())
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"


def _finding(file: str, rule_id: str, line: int, statement: str, detail: str = "") -> Finding:
    rule = RULES[rule_id]
    return Finding(file, line, rule.id, rule.message + detail, rule.fix, statement)


def lint_sql(file: str, sql: str) -> list[Finding]:
    """Findings for one migration file's text (never raises on bad SQL)."""
    ignored = {r.strip() for m in _IGNORE.finditer(sql) for r in re.split(r"[,\s]+", m.group(1)) if r}
    try:
        parsed = parse_sql(sql)
    except ParseError as exc:
        message, offset = (exc.args + (0,))[:2] if exc.args else ("unparseable", 0)
        line = _line(sql, int(offset) if isinstance(offset, int) else 0)
        return [_finding(file, "syntax-error", line, "", f": {message}")]
    state = FileState()
    findings = []
    for raw in parsed:
        start, stmt = raw.stmt_location or 0, raw.stmt
        if stmt is None:
            continue
        for rule_id in check(stmt, state):
            if rule_id not in ignored:
                findings.append(_finding(file, rule_id, _line(sql, start),
                                         _shown(sql, start, raw.stmt_len or 0)))
        remember(stmt, state)
    return findings


def lint_migrations(migrations: list[Migration]) -> list[Finding]:
    return [f for m in migrations for f in lint_sql(m.up_name, m.up_sql)]
