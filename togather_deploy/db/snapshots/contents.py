"""What a plain ``pg_dump`` holds, table by table: row count and an order-independent digest.

``create_snapshot`` stores ``tables`` in the ``.meta.json``; the restore drill dumps the
scratch database it restored into and compares the two. Each table's digest is the sum,
modulo 2**128, of a 128-bit BLAKE2b hash of every ``COPY`` data line: equal multisets of rows
give equal digests whatever order the rows come out in, and one changed byte in one row
changes it. Pure: it reads bytes it is given.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator
from typing import Protocol

_MOD = 1 << 128
_COPY = b"COPY "
_END = b"\\."


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    rest = b""
    for chunk in chunks:
        rest += chunk
        *whole, rest = rest.split(b"\n")
        yield from whole
    if rest:
        yield rest


def digest_lines(lines: Iterable[bytes]) -> dict[str, dict[str, int | str]]:
    """``{"public.events": {"rows": N, "digest": "…"}}`` for every COPY block in the dump text."""
    out: dict[str, dict[str, int | str]] = {}
    table: str | None = None
    rows = total = 0
    for line in lines:
        if table is None:
            if line.startswith(_COPY) and line.endswith(b"FROM stdin;"):
                table = line[len(_COPY):].split(b" ", 1)[0].decode("utf-8", "replace")
                rows = total = 0
            continue
        if line == _END:
            out[table] = {"rows": rows, "digest": f"{total:032x}"}
            table = None
            continue
        rows += 1
        total = (total + int.from_bytes(hashlib.blake2b(line, digest_size=16).digest(), "big")) % _MOD
    return out


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def digest_stream(stream: Readable) -> dict[str, dict[str, int | str]]:
    return digest_lines(_lines(iter(lambda: stream.read(1 << 20), b"")))


def digest_file(path: str) -> dict[str, dict[str, int | str]]:
    """The tables of a ``.sql.gz`` snapshot."""
    with gzip.open(path, "rb") as fh:
        return digest_stream(fh)


def differences(expected: dict[str, dict[str, int | str]],
                actual: dict[str, dict[str, int | str]]) -> list[str]:
    """Human lines naming every table whose rows differ (empty: identical)."""
    out = []
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name), actual.get(name)
        if want is None or got is None:
            out.append(f"{name}: {'missing after restore' if got is None else 'not in the snapshot'}")
        elif want["rows"] != got["rows"]:
            out.append(f"{name}: {got['rows']} rows restored, {want['rows']} in the snapshot")
        elif want["digest"] != got["digest"]:
            out.append(f"{name}: same row count ({got['rows']}) but different contents")
    return out
