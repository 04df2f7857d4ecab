"""The blue/green lint's rules, over PostgreSQL's own parse tree (``pglast``).

Each rule has an id (what ``-- lint:ignore <id>`` names), a message saying what
breaks while the old colour still runs, and the safer way. ``check`` yields the
ids one statement triggers; it never looks at other files or at a database, so
it is pure. Tables (and indexes) created earlier in the same file are new: no
running code uses them yet, so changing them is never flagged.

Adopted from squawk's rule set where it fits blue/green (old and new app on one
schema): ``adding-field-with-default`` → ``volatile-default``,
``adding-foreign-key-constraint`` → ``constraint-validation`` /
``foreign-key-column``, ``disallowed-unique-constraint`` → ``unique-constraint``,
``require-concurrent-index-deletion`` → ``drop-index-not-concurrent``,
``require-concurrent-reindex`` → ``reindex-not-concurrent``, ``ban-drop-database``
→ ``drop-database``, ``require-timeout-settings`` (lock_timeout half) →
``lock-timeout``. Style rules (``prefer-text-field``, ``prefer-bigint…``) are not
blue/green hazards and are left out; ``ban-drop-not-null`` contradicts the
expand step (making a column nullable is how a column is retired).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType as At
from pglast.enums import ConstrType as Ct
from pglast.enums import ObjectType as Ot


@dataclass(frozen=True)
class Rule:
    id: str
    message: str
    fix: str


_RULES = (
    Rule("drop-table", "drops a table the old colour may still read",
         "stop using it in one release, drop it in a later one"),
    Rule("drop-column", "drops a column the old colour may still read or write",
         "stop using it in one release, drop it in a later one"),
    Rule("rename", "renames (or moves) a table or column the old colour still uses by its old name",
         "add the new name, copy and dual-write, drop the old one in a later release"),
    Rule("column-type", "changes a column type: rewrites the table under an exclusive lock and can break "
         "old code", "add a new column of the new type and backfill it"),
    Rule("not-null-no-default", "adds a NOT NULL column without a default: the old colour's INSERTs will "
         "fail", "add it with a DEFAULT, or nullable first"),
    Rule("set-not-null", "makes a column NOT NULL: scans the table under an exclusive lock; old code may "
         "write NULLs", "add a CHECK (col IS NOT NULL) NOT VALID constraint, then VALIDATE it"),
    Rule("index-not-concurrent", "builds an index on an existing table without CONCURRENTLY: blocks writes "
         "while it builds", "CREATE INDEX CONCURRENTLY in a migration file of its own"),
    Rule("constraint-validation", "adds a constraint that is validated under a lock while the table is "
         "scanned", "ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT in a later migration"),
    Rule("truncate", "deletes all rows the old colour is serving", "delete in batches, or keep the data"),
    Rule("volatile-default", "adds a column whose value is computed per row (volatile DEFAULT, serial, "
         "identity or stored generated column): rewrites the whole table under an ACCESS EXCLUSIVE lock",
         "add the column nullable without that default, backfill in batches, then SET DEFAULT"),
    Rule("foreign-key-column", "adds a column with REFERENCES to an existing table: locks both tables "
         "against writes", "add the column plain, then ADD CONSTRAINT … FOREIGN KEY … NOT VALID and "
         "VALIDATE CONSTRAINT in a later migration"),
    Rule("unique-constraint", "adds a UNIQUE or PRIMARY KEY constraint: builds its index under an ACCESS "
         "EXCLUSIVE lock", "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … USING INDEX"),
    Rule("drop-index-not-concurrent", "drops an index without CONCURRENTLY: takes an ACCESS EXCLUSIVE lock "
         "on its table", "DROP INDEX CONCURRENTLY in a migration file of its own"),
    Rule("reindex-not-concurrent", "rebuilds an index without CONCURRENTLY: blocks writes while it builds",
         "REINDEX … CONCURRENTLY in a migration file of its own"),
    Rule("drop-database", "drops a database", "never from a migration"),
    Rule("lock-timeout", "takes a lock on an existing table with no lock_timeout set: waiting behind one "
         "long query, it queues every read and write of the table behind itself",
         "start the file with SET lock_timeout = '5s'; (retry the release if it times out)"),
    Rule("syntax-error", "PostgreSQL's parser rejects this SQL", "fix the statement (psql meta-commands "
         "such as \\connect are not SQL)"),
)
RULES = {r.id: r for r in _RULES}

# Functions whose value cannot differ between rows: a DEFAULT of them is stored once in the
# catalogue (PostgreSQL 11+) instead of rewriting the table. Anything else may be volatile.
_STABLE_FUNCTIONS = frozenset({
    "now", "transaction_timestamp", "statement_timestamp", "current_setting", "lower", "upper",
    "jsonb_build_object", "json_build_object", "jsonb_build_array", "json_build_array", "to_jsonb",
    "make_interval", "make_date", "make_timestamptz", "concat", "array_fill"})
_SERIAL = frozenset({"smallserial", "serial", "bigserial", "serial2", "serial4", "serial8"})
_LOCKING = (ast.AlterTableStmt, ast.IndexStmt, ast.DropStmt, ast.TruncateStmt, ast.RenameStmt,
            ast.AlterObjectSchemaStmt, ast.CreateTrigStmt, ast.ReindexStmt)

_DROPS_LOCKING = (Ot.OBJECT_TABLE, Ot.OBJECT_INDEX, Ot.OBJECT_MATVIEW)


@dataclass
class FileState:
    """What earlier statements of the same file did."""

    created: set[str] = field(default_factory=set)
    lock_timeout: bool = False
    lock_timeout_reported: bool = False


def _name(rel: Any) -> str:
    return str(rel.relname) if isinstance(rel, ast.RangeVar) else ""


def _last(names: Any) -> str:
    return str(names[-1].sval) if names else ""


def remember(stmt: ast.Node, state: FileState) -> None:
    """Update ``state`` after ``stmt`` (tables and indexes it creates, lock_timeout it sets)."""
    if isinstance(stmt, ast.CreateStmt):
        state.created.add(_name(stmt.relation))
    elif isinstance(stmt, ast.CreateTableAsStmt) and stmt.into is not None:
        state.created.add(_name(stmt.into.rel))
    elif isinstance(stmt, ast.IndexStmt) and stmt.idxname:
        state.created.add(str(stmt.idxname))
    elif isinstance(stmt, ast.VariableSetStmt) and stmt.name == "lock_timeout":
        value = stmt.args[0].val if stmt.args else None
        # SET lock_timeout = 0 (or RESET/DEFAULT) turns the timeout off again
        state.lock_timeout = value is not None and str(getattr(value, "ival", getattr(value, "sval", 0))) \
            not in ("0", "")


def _tables(stmt: ast.Node) -> list[str]:
    """The existing relations a locking statement touches (names as parsed)."""
    if isinstance(stmt, ast.DropStmt):
        return [_last(obj) for obj in stmt.objects or () if isinstance(obj, tuple)]
    if isinstance(stmt, ast.TruncateStmt):
        return [_name(r) for r in stmt.relations or ()]
    return [_name(getattr(stmt, "relation", None))]


def check(stmt: ast.Node, state: FileState) -> Iterator[str]:
    """Ids of the rules ``stmt`` breaks, given what the file did before it."""
    if isinstance(stmt, ast.DropdbStmt):
        yield "drop-database"
    if not isinstance(stmt, _LOCKING) or (
            isinstance(stmt, ast.DropStmt) and stmt.removeType not in _DROPS_LOCKING):
        return
    tables = _tables(stmt)
    if tables and all(t in state.created for t in tables):
        return  # nothing running uses what this file just created
    if not state.lock_timeout and not state.lock_timeout_reported and not _concurrent(stmt):
        state.lock_timeout_reported = True  # once per file: one SET at the top fixes them all
        yield "lock-timeout"
    yield from _statement_rules(stmt, state)


def _concurrent(stmt: ast.Node) -> bool:
    if isinstance(stmt, ast.ReindexStmt):
        return any(p.defname == "concurrently" for p in stmt.params or ())
    return bool(getattr(stmt, "concurrent", False))


def _statement_rules(stmt: ast.Node, state: FileState) -> Iterator[str]:
    if isinstance(stmt, ast.DropStmt):
        if stmt.removeType == Ot.OBJECT_TABLE:
            yield "drop-table"
        elif stmt.removeType == Ot.OBJECT_INDEX and not stmt.concurrent:
            yield "drop-index-not-concurrent"
    elif isinstance(stmt, ast.TruncateStmt):
        yield "truncate"
    elif isinstance(stmt, ast.IndexStmt) and not stmt.concurrent:
        yield "index-not-concurrent"
    elif isinstance(stmt, ast.ReindexStmt) and not _concurrent(stmt):
        yield "reindex-not-concurrent"
    elif _renames(stmt):
        yield "rename"
    elif isinstance(stmt, ast.AlterTableStmt):
        for cmd in stmt.cmds or ():
            yield from _alter_rules(cmd, state)


def _renames(stmt: ast.Node) -> bool:
    """RENAME of a table, view or column, or SET SCHEMA (the old name stops resolving)."""
    if isinstance(stmt, ast.RenameStmt):
        return stmt.renameType in (Ot.OBJECT_TABLE, Ot.OBJECT_COLUMN, Ot.OBJECT_VIEW, Ot.OBJECT_MATVIEW)
    return isinstance(stmt, ast.AlterObjectSchemaStmt) and stmt.objectType == Ot.OBJECT_TABLE


def _alter_rules(cmd: ast.AlterTableCmd, state: FileState) -> Iterator[str]:
    if cmd.subtype == At.AT_DropColumn:
        yield "drop-column"
    elif cmd.subtype == At.AT_AlterColumnType:
        yield "column-type"
    elif cmd.subtype == At.AT_SetNotNull:
        yield "set-not-null"
    elif cmd.subtype == At.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        con = cmd.def_
        if con.contype in (Ct.CONSTR_FOREIGN, Ct.CONSTR_CHECK) and not con.skip_validation:
            yield "constraint-validation"
        elif con.contype in (Ct.CONSTR_UNIQUE, Ct.CONSTR_PRIMARY) and not con.indexname:
            yield "unique-constraint"
    elif cmd.subtype == At.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        yield from _add_column_rules(cmd.def_, state)


def _add_column_rules(col: ast.ColumnDef, state: FileState) -> Iterator[str]:
    kinds = {c.contype: c for c in col.constraints or ()}
    default = kinds.get(Ct.CONSTR_DEFAULT)
    type_names = col.typeName.names if col.typeName is not None else ()
    computed = (_last(type_names) in _SERIAL or Ct.CONSTR_IDENTITY in kinds
                or Ct.CONSTR_GENERATED in kinds
                or (default is not None and _volatile(default.raw_expr)))
    if computed:
        yield "volatile-default"
    if Ct.CONSTR_NOTNULL in kinds and default is None and not computed:
        yield "not-null-no-default"
    fk = kinds.get(Ct.CONSTR_FOREIGN)
    if fk is not None and _name(fk.pktable) not in state.created:
        yield "foreign-key-column"


def _volatile(expr: Any) -> bool:
    """Whether ``expr`` calls a function not known to be stable (squawk's conservative choice)."""
    for node in _walk(expr):
        if isinstance(node, ast.FuncCall) and _last(node.funcname).lower() not in _STABLE_FUNCTIONS:
            return True
    return False


def _walk(value: Any) -> Iterator[Any]:
    if isinstance(value, ast.Node):
        yield value
        for attr in value:
            yield from _walk(getattr(value, attr))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _walk(item)
