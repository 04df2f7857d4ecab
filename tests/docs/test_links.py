"""Every relative link in every Markdown file of the repository resolves, inside the repository.

A reader of a fresh clone has nothing else: a link to ``../shared/…`` or to an absolute path
on some author's machine is a dead end. Links to ``http(s)://`` and ``mailto:`` are not
fetched (no network here); ``#anchor`` parts must name a heading of the target Markdown file.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import ROOT

SKIP_DIRS = {".git", "venv", ".venv", "node_modules", ".pytest_cache", ".mypy_cache", ".ruff_cache",
             ".state", "__pycache__"}
INLINE = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)
EXTERNAL = ("http://", "https://", "mailto:")
FENCE = re.compile(r"^\s*(```|~~~).*?^\s*\1\s*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def markdown_files() -> list[str]:
    found = []
    for dirpath, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        found += [os.path.relpath(os.path.join(dirpath, f), ROOT) for f in sorted(files) if f.endswith(".md")]
    return found


def _prose(text: str) -> str:
    """The text without code blocks and code spans (a link shown as code is not a link)."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def links(text: str) -> list[str]:
    prose = _prose(text)
    return [m.group(1) for rx in (INLINE, IMAGE, REFERENCE) for m in rx.finditer(prose)]


def anchors(text: str) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", text), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        out.add(slug)
    return out


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def broken_links(rel: str) -> list[str]:
    """Each link of ``rel`` that leaves the repository, is absolute, or names nothing."""
    here = os.path.join(ROOT, rel)
    problems = []
    for target in links(_read(here)):
        if target.startswith(EXTERNAL):
            continue
        path, _, anchor = target.partition("#")
        if path.startswith("/"):
            problems.append(f"{target}: absolute path (use a path relative to {rel})")
            continue
        resolved = os.path.normpath(os.path.join(os.path.dirname(here), path)) if path else here
        if os.path.relpath(resolved, ROOT).startswith(".."):
            problems.append(f"{target}: points outside the repository")
        elif not os.path.exists(resolved):
            problems.append(f"{target}: no such file")
        elif anchor and resolved.endswith(".md") and anchor not in anchors(_read(resolved)):
            problems.append(f"{target}: no heading #{anchor} in {os.path.relpath(resolved, ROOT)}")
    return problems


FILES = markdown_files()


def test_the_walk_finds_the_handbook() -> None:
    assert {"README.md", "CONTRIBUTING.md", "docs/operations.md", "docs/app-contract.md",
            "demo-app/README.md"} <= set(FILES)


@pytest.mark.parametrize("rel", FILES)
def test_every_relative_link_resolves(rel: str) -> None:
    assert broken_links(rel) == []


def test_no_markdown_names_a_path_outside_the_repository() -> None:
    """Also in code spans: ``/work/shared/…`` or ``../shared/…`` is as dead as a link to it."""
    outside = re.compile(r"(?:^|[\s`(])((?:\.\./)+shared/\S*|/work/\S+)")
    found = [f"{rel}: {m.group(1)}" for rel in FILES
             for m in outside.finditer(_read(os.path.join(ROOT, rel)))]
    assert found == []


def test_the_checker_catches_what_it_claims(tmp_path: object) -> None:
    """The checks themselves can fail: each kind of broken link is reported."""
    text = ("[a](../outside.md) [b](/etc/passwd) [c](docs/nope.md) [d](docs/operations.md#no-such-heading) "
            "[e](docs/operations.md) [f](https://example.org/x) `[g](nope.md)`\n[r]: missing.md\n")
    rel = "tests/docs/.probe-links.md"
    path = os.path.join(ROOT, rel)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace("(docs/", "(../../docs/").replace("(../outside", "(../../../outside"))
    try:
        problems = broken_links(rel)
    finally:
        os.unlink(path)
    assert [p.split(":")[1].strip() for p in problems] == [
        "points outside the repository", "absolute path (use a path relative to tests/docs/.probe-links.md)",
        "no such file", "no heading #no-such-heading in docs/operations.md", "no such file"]
