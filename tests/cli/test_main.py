"""``togather-deploy``: one entry point, one table of verbs, one parser layout, the exit codes.

Run for real: the console script's module as a subprocess (``python -m togather_deploy.cli.main``,
what ``scripts/togather-deploy`` falls back to), and the ``scripts/<verb>`` wrappers.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from togather_deploy import ROOT
from togather_deploy.cli import main as cli_main
from togather_deploy.cli.main import VERBS, dispatch, parser_for
from togather_deploy.errors import EXIT_CODES_HELP, ExitCode


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "togather_deploy.cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "PYTHONPATH": ROOT, "COLUMNS": "80"})


def test_help_lists_every_verb_with_its_line_without_loading_pulumi() -> None:
    proc = _cli("--help")
    assert proc.returncode == 0, proc.stderr
    for verb in VERBS:
        assert f"  {verb.name}" in proc.stdout and verb.help in proc.stdout
    assert EXIT_CODES_HELP in proc.stdout
    check = ("import sys; from togather_deploy.cli.main import dispatch; dispatch(['--help']); "
             "sys.exit(1 if 'pulumi' in sys.modules else 0)")
    loaded = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True,
                            timeout=60, check=False)
    assert loaded.returncode == 0, "--help imported pulumi"


@pytest.mark.parametrize("verb", [v.name for v in VERBS])
def test_each_verb_help_has_one_line_per_argument_the_exit_codes_and_an_example(verb: str) -> None:
    text = parser_for(verb).format_help()
    assert text.startswith(f"usage: togather-deploy {verb}")
    assert EXIT_CODES_HELP in text and f"example: togather-deploy {verb}" in text
    assert "``" not in text and ":param" not in text  # no RST markup
    options = [ln for ln in text.splitlines() if ln.startswith("  -") or ln.startswith("  --")]
    for line in options:  # the help on the same line as the flag, never wrapped below it
        assert len(line.split("  ", 2)) == 3 or "-h, --help" in line, line


def test_stack_verbs_share_stack_json_and_cwd() -> None:
    for verb in ("deploy", "rollback", "status"):
        p = parser_for(verb)
        extra = ["v1.2.3"] if verb == "deploy" else []
        ns = p.parse_args(["production", *extra, "--json", "--cwd", "/srv/x"])
        assert (ns.stack, ns.json, ns.project_dir) == ("production", True, "/srv/x")
        assert p.parse_args(["production", *extra, "--project-dir", "/y"]).project_dir == "/y"


def test_unknown_verb_and_no_verb_are_usage_errors() -> None:
    err = io.StringIO()
    assert dispatch(["deploi"], io.StringIO(), err) == ExitCode.USAGE
    assert "unknown verb 'deploi'" in err.getvalue() and "deploy" in err.getvalue()
    assert dispatch([], io.StringIO(), io.StringIO()) == ExitCode.USAGE
    proc = _cli("deploy", "production")  # VERSION missing
    assert proc.returncode == ExitCode.USAGE and "VERSION" in proc.stderr
    proc = _cli("deploy", "production", "latest")  # a moving tag is refused by the parser
    assert proc.returncode == ExitCode.USAGE and "latest" in proc.stderr


def test_exit_codes_are_the_documented_ones() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0, "FAILURE": 1, "USAGE": 2, "LOCKED": 3, "HEALTH": 4, "MIGRATION": 5, "CONFIG": 10}


def test_every_verb_module_follows_the_convention() -> None:
    for verb in VERBS:
        module = cli_main.module_of(verb)
        assert callable(module.main), verb.module
        assert callable(getattr(module, "add_arguments", None) or module.build_parser), verb.module


@pytest.mark.parametrize("verb", [v.name for v in VERBS])
def test_scripts_are_one_line_wrappers(verb: str) -> None:
    with open(os.path.join(ROOT, "scripts", verb), encoding="utf-8") as fh:
        code = [ln for ln in fh.read().splitlines() if ln.strip() and not ln.startswith("#")]
    assert code == [f'exec "$(dirname "${{BASH_SOURCE[0]}}")/togather-deploy" {verb} "$@"']
    proc = subprocess.run([os.path.join(ROOT, "scripts", verb), "--help"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0 and f"togather-deploy {verb}" in proc.stdout, proc.stderr


def test_pyproject_declares_the_console_script() -> None:
    import tomllib

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        project = tomllib.load(fh)["project"]
    assert project["scripts"] == {"togather-deploy": "togather_deploy.cli.main:main"}
