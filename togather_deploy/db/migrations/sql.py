"""Splitting a migration file into statements, and classifying them.

A small lexer that knows PostgreSQL's quoting (``'…'``, ``E'…'``, ``"…"``,
``$tag$…$tag$``) and comments (``--``, nested ``/* */``), so a ``;`` inside a
function body or a string never splits a statement. Used by the runner, which
sends statements one by one (``CREATE INDEX CONCURRENTLY`` refuses to run inside
the implicit transaction of a multi-statement query) and must split even SQL that
does not parse, so PostgreSQL reports the error at its line. The linter parses
with ``pglast`` instead (see ``lint``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")

# Statements PostgreSQL refuses to run inside a transaction block.
_NO_TX = re.compile(
    r"^(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY|"
    r"REINDEX\b.*\bCONCURRENTLY|VACUUM\b|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+SYSTEM|"
    r"CREATE\s+TABLESPACE|DROP\s+TABLESPACE|ALTER\s+TABLE\b.*\bDETACH\s+PARTITION\b.*\bCONCURRENTLY)",
    re.IGNORECASE | re.DOTALL)
_BEGIN = re.compile(r"^(BEGIN|START\s+TRANSACTION)(\s+(WORK|TRANSACTION|ISOLATION\b.*))?$",
                    re.IGNORECASE | re.DOTALL)
_COMMIT = re.compile(r"^(COMMIT|END)(\s+(WORK|TRANSACTION))?$", re.IGNORECASE)
_TX_CONTROL = re.compile(r"^(BEGIN|START|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|PREPARE\s+TRANSACTION)\b",
                         re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    text: str
    """The statement as written, without the trailing ``;``."""
    code: str
    """The same with comments removed and whitespace collapsed: what rules match."""
    line: int
    """1-based line of its first character in the file."""


def split_statements(sql: str) -> list[Statement]:
    """Top-level statements of ``sql`` in order; empty ones (``;;``, comments) are dropped."""
    out: list[Statement] = []
    start = 0
    first = -1  # index of the statement's first character that is not comment/space
    code: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if first < 0 and not ch.isspace() and sql[i:i + 2] not in ("--", "/*"):
            first = i
        nxt = sql[i + 1] if i + 1 < n else ""
        if ch == "-" and nxt == "-":
            end = sql.find("\n", i)
            i = n if end < 0 else end
            code.append(" ")
            continue
        if ch == "/" and nxt == "*":
            i = _skip_block_comment(sql, i)
            code.append(" ")
            continue
        if ch in ("'", '"'):
            escapes = ch == "'" and i > 0 and sql[i - 1] in "eE" and not _ident_char(sql, i - 2)
            end = _skip_quoted(sql, i, ch, escapes)
            code.append(sql[i:end])
            i = end
            continue
        if ch == "$" and not _ident_char(sql, i - 1):
            match = _DOLLAR.match(sql, i)
            if match:
                close = sql.find(match.group(0), match.end())
                end = n if close < 0 else close + len(match.group(0))
                code.append(sql[i:end])
                i = end
                continue
        if ch == ";":
            _emit(out, sql, start, i, first, code)
            start, first, code = i + 1, -1, []
            i += 1
            continue
        code.append(ch)
        i += 1
    _emit(out, sql, start, n, first, code)
    return out


def _ident_char(sql: str, i: int) -> bool:
    return i >= 0 and (sql[i].isalnum() or sql[i] == "_")


def _skip_block_comment(sql: str, i: int) -> int:
    depth, i = 1, i + 2
    while i < len(sql) and depth:
        if sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
        else:
            i += 1
    return i


def _skip_quoted(sql: str, i: int, quote: str, escapes: bool) -> int:
    i += 1
    while i < len(sql):
        if escapes and sql[i] == "\\":
            i += 2
            continue
        if sql[i] == quote:
            if i + 1 < len(sql) and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return len(sql)


def _emit(out: list[Statement], sql: str, start: int, end: int, first: int, code: list[str]) -> None:
    flat = " ".join("".join(code).split())
    if not flat or first < 0:
        return
    out.append(Statement(text=sql[first:end].strip(), code=flat, line=sql.count("\n", 0, first) + 1))


def needs_no_transaction(statements: list[Statement]) -> Statement | None:
    """The first statement that cannot run inside a transaction block, if any."""
    return next((s for s in statements if _NO_TX.match(s.code)), None)


def strip_wrapping_transaction(statements: list[Statement]) -> tuple[list[Statement], bool]:
    """Drop a file's own ``BEGIN; … COMMIT;`` (the runner supplies the transaction).

    Returns the statements and whether any other transaction control remains,
    in which case the file cannot share a transaction with the version bump.
    """
    body = list(statements)
    if len(body) >= 2 and _BEGIN.match(body[0].code) and _COMMIT.match(body[-1].code):
        body = body[1:-1]
    return body, any(_TX_CONTROL.match(s.code) for s in body)


def line_of(sql: str, position: int) -> int:
    """1-based line of a 1-based character ``position`` (as PostgreSQL reports it)."""
    return sql.count("\n", 0, max(position - 1, 0)) + 1
