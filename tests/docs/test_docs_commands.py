"""Every command the handbook shows is checked against the real code, so the docs cannot drift."""

from __future__ import annotations

import os
import re

import pytest

from tests.docs.doc_commands import ALLOWED, check_command
from tests.docs.doc_extract import DOCS_DIR, Command, bash_lines, doc_commands, split_commands
from togather_deploy.render.alert_rules import DEFAULT_DURATIONS, render_alert_rules

COMMANDS = doc_commands()
HANDBOOK = ("operations.md", "alerts.md", "architecture.md", "scaling.md", "app-contract.md")


def _read(name: str) -> str:
    with open(os.path.join(DOCS_DIR, name), encoding="utf-8") as fh:
        return fh.read()


def test_the_handbook_exists_and_shows_commands() -> None:
    assert set(HANDBOOK) <= set(os.listdir(DOCS_DIR))
    assert len([c for c in COMMANDS if c.doc == "operations.md"]) >= 20


@pytest.mark.parametrize("cmd", COMMANDS, ids=str)
def test_every_documented_command_is_checked(cmd: Command) -> None:
    check_command(cmd)


def test_every_allow_list_entry_is_used() -> None:
    import shlex

    joined = [shlex.join(c.argv) for c in COMMANDS]
    unused = [p for p, _ in ALLOWED if not any(re.fullmatch(p, j) for j in joined)]
    assert len(unused) <= len(ALLOWED) // 2, f"allow-list entries nobody uses: {unused}"


def test_every_alert_rule_has_a_section() -> None:
    rendered = render_alert_rules(7)
    names = set(re.findall(r"alert: (\w+)", rendered))
    assert names == set(DEFAULT_DURATIONS)
    headings = set(re.findall(r"^## (\w+)", _read("alerts.md"), flags=re.MULTILINE))
    assert names <= headings, f"alerts without a section: {sorted(names - headings)}"


@pytest.mark.parametrize("name", HANDBOOK)
def test_every_code_path_named_exists(name: str) -> None:
    import glob

    from tests.conftest import ROOT

    tops = "components|togather_deploy|cli|scripts|policy|tests|demo-app|benchmarks|docs|\\.github"
    paths = set(re.findall(rf"`((?:{tops})/[\w./*-]+)`", _read(name)))
    missing = [p for p in sorted(paths) if not glob.glob(os.path.join(ROOT, p))]
    assert missing == []


def test_release_order_diagram() -> None:
    text = _read("architecture.md")
    assert "```mermaid" in text
    chain = "Database --> DbSnapshot --> Migrations --> AppSlot --> HealthGate --> TrafficSwitch"
    assert chain in re.sub(r"\[[^\]]*\]|\([^)]*\)", "", text)


# --- the checker itself must be able to fail ---------------------------------------------------

def test_parsing_of_blocks_and_lines() -> None:
    text = "```bash\n# comment\nscripts/deploy production \\\n  v1.4.0\n```\n```\nnot bash\n```\n"
    assert list(bash_lines(text)) == [(0, ""), (3, "scripts/deploy production v1.4.0")]
    cron = "```text\nx\n```\n```cron\n# c\n30 3 * * * root cd /opt/x && scripts/status production\n```\n"
    assert list(bash_lines(cron)) == [(0, ""), (6, "cd /opt/x && scripts/status production")]
    assert split_commands("FOO=1 sudo pulumi up --stack production && curl -fsS x | jq .") == [
        ["pulumi", "up", "--stack", "production"], ["curl", "-fsS", "x"], ["jq", "."]]


@pytest.mark.parametrize("argv", [
    ("scripts/deploy", "production"),                                   # VERSION missing
    ("scripts/deploy", "production", "latest!"),                        # not a tag
    ("scripts/deploy", "nosuchstack", "v1.0.0"),                        # no stack file
    ("scripts/nosuchverb",),
    ("pulumi", "config", "set", "togather:nosuchKey", "1"),             # unknown key
    ("pulumi", "config", "set", "togather:jwtSecret", "x" * 40),        # secret without --secret
    ("pulumi", "config", "set", "--path", "togather:health.timeoutSeconds", "soon"),
    ("rm", "-rf", "/"),                                                 # not on the allow-list
    ("docker", "logs", "togather-deploy-production-app-purple"),        # no such container
    ("export", "DATABASE_URL=$(pulumi stack output nosuchOutput --show-secrets)"),
])
def test_bad_commands_are_caught(argv: tuple[str, ...]) -> None:
    with pytest.raises(AssertionError):
        check_command(Command("x.md", 1, argv))


def test_good_config_commands_pass() -> None:
    for argv in [("pulumi", "config", "set", "--secret", "togather:jwtSecret", "x" * 40),
                 ("pulumi", "config", "set", "--path", "togather:appEnv.LOG_LEVEL", "info"),
                 ("pulumi", "config", "set", "--secret", "--path", "togather:appSecrets.SMTP_PASSWORD", "pw"),
                 ("pulumi", "config", "set", "togather:activeColor", "blue", "--stack", "staging")]:
        check_command(Command("x.md", 1, argv))
