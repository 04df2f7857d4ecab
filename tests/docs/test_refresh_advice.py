"""``pulumi refresh`` is never recommended blindly: a plain refresh drops stopped ``must_run``
containers (database, router, monitoring) from the state. Every mention in the handbook, the
README and the operator code's advice must be targeted (``--target``) or say not to run it."""

from __future__ import annotations

import glob
import os
import re

import pytest

from tests.conftest import ROOT
from tests.docs.doc_commands import check_command
from tests.docs.doc_extract import Command
from togather_deploy.cli.outcome import interrupted
from togather_deploy.ops.context import OpsContext

SOURCES = sorted([os.path.join(ROOT, "README.md"), *glob.glob(os.path.join(ROOT, "docs", "*.md")),
                  *glob.glob(os.path.join(ROOT, "togather_deploy", "**", "*.py"), recursive=True),
                  *glob.glob(os.path.join(ROOT, "components", "**", "*.py"), recursive=True),
                  *glob.glob(os.path.join(ROOT, "scripts", "*"))])
MENTION = re.compile(r"pulumi refresh[^`\n]*")


def blind_refreshes(text: str) -> list[str]:
    """Mentions of ``pulumi refresh`` that neither target a resource nor warn against it."""
    found = []
    for m in MENTION.finditer(text):
        before = text[max(0, m.start() - 40):m.start()].lower()
        if "--target" in m.group(0) or re.search(r"((not|never) run an?( plain)?|plain|why not) `?$", before):
            continue
        found.append(m.group(0))
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: os.path.relpath(p, ROOT))
def test_no_blind_refresh_is_recommended(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        assert blind_refreshes(fh.read()) == []


def test_the_detector_catches_the_old_advice() -> None:
    old = "pending operations: `pulumi refresh --stack production`, then deploy or roll back again"
    assert blind_refreshes(old) == ["pulumi refresh --stack production"]
    assert blind_refreshes("Do not run a plain `pulumi refresh`: it drops ...") == []


def test_an_untargeted_refresh_fails_the_handbook_check() -> None:
    with pytest.raises(AssertionError):
        check_command(Command("operations.md", 1, ("pulumi", "refresh", "--stack", "production")))
    check_command(Command("operations.md", 1, ("pulumi", "refresh", "--stack", "production",
                                               "--target", "urn:x")))


def test_the_handbook_explains_why() -> None:
    with open(os.path.join(ROOT, "docs", "operations.md"), encoding="utf-8") as fh:
        text = fh.read()
    assert "why not `pulumi refresh`" in text and "must_run" in text


def test_an_interrupted_deploy_does_not_send_the_operator_to_refresh(tmp_path) -> None:
    fix = interrupted(OpsContext(project_dir=str(tmp_path), stack="production")).fix or ""
    assert "scripts/status production" in fix
    assert blind_refreshes(fix) == []
