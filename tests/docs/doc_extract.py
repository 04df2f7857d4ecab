"""Extract the shell commands shown in the handbook: every ```bash block, line by line.

Continuation lines are joined, comments dropped, a line split into its simple
commands (``&&``, ``||``, ``;``, ``|``), and ``sudo``/``NAME=value`` prefixes removed.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from tests.conftest import ROOT

DOCS_DIR = os.path.join(ROOT, "docs")
SEPARATORS = {"&&", "||", ";", "|"}
CHECKED = ("bash", "cron")
SUBSTITUTION = "0123456789abcdef" * 4  # what a `$(openssl rand -hex 32)` expands to


@dataclass(frozen=True)
class Command:
    doc: str
    line: int
    argv: tuple[str, ...]
    before: tuple[tuple[str, ...], ...] = ()
    """``pulumi config set`` commands earlier in the same block: applied first, in order."""

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {shlex.join(self.argv)}"


def bash_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, logical line) of every ```bash block; joins ``\\`` continuations.
    ```cron blocks (``/etc/cron.d`` lines) count too: their command is what follows the five
    time fields and the user. A block starts with line number 0 and an empty line, so
    callers can tell blocks apart."""
    fence: str | None = None  # the open block's language; None outside blocks
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("```"):
            fence = stripped[3:].strip() if fence is None else None
            if fence in CHECKED:
                yield 0, ""
            continue
        if fence not in CHECKED or (not pending and (not stripped or stripped.startswith("#"))):
            continue
        if fence == "cron":
            fields = stripped.split(None, 6)
            assert len(fields) == 7, f"line {number}: a cron line needs 5 time fields, a user and a command"
            yield number, fields[6]
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        yield start, pending + stripped
        pending = ""


def split_commands(line: str) -> list[list[str]]:
    """Each simple command of a line; drops comments, ``sudo`` and ``NAME=value`` prefixes."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    out = []
    for argv in commands:
        while argv and (argv[0] == "sudo" or re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", argv[0])):
            argv = argv[1:]
        if argv:
            out.append([a.replace("$(openssl rand -hex 32)", SUBSTITUTION) for a in argv])
    return out


def doc_commands(doc_dir: str = DOCS_DIR, *, readme: bool = True) -> list[Command]:
    """Commands of every handbook page, and of the README (its two commands, the release flow)."""
    found = []
    pages = [(doc_dir, n) for n in sorted(os.listdir(doc_dir)) if n.endswith(".md")]
    for directory, name in pages + ([(ROOT, "README.md")] if readme else []):
        with open(os.path.join(directory, name), encoding="utf-8") as fh:
            text = fh.read()
        before: list[tuple[str, ...]] = []
        for number, line in bash_lines(text):
            if number == 0:
                before = []
            for argv in map(tuple, split_commands(line)):
                found.append(Command(name, number, argv, tuple(before)))
                if argv[:3] == ("pulumi", "config", "set"):
                    before.append(argv)
    return found
