"""Every day-two verb's ``--help`` (issue 16, item 11): a line per argument, the exit codes and an
example, in plain text (no RST markup); run through the real ``scripts/<verb>`` wrappers."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess

import pytest

from togather_deploy import ROOT
from togather_deploy.cli.main import parser_for

VERBS = {"logs": "logs", "exec": "exec_cmd", "maintenance": "maintenance", "doctor": "doctor",
         "status": "status", "rollback": "rollback"}


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_help_has_every_argument_exit_codes_and_an_example(verb: str) -> None:
    proc = subprocess.run([os.path.join(ROOT, "scripts", verb), "--help"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "exit codes:" in text and "example:" in text and f"{verb} production" in text
    assert "``" not in text and ":class:" not in text
    module = importlib.import_module(f"togather_deploy.cli.{VERBS[verb]}")
    parser: argparse.ArgumentParser = (module.build_parser() if hasattr(module, "build_parser")
                                       else parser_for(verb))
    undocumented = [a.dest for a in parser._actions if not a.help]
    assert undocumented == []


@pytest.mark.parametrize("verb", ["logs", "exec_cmd", "maintenance", "doctor", "status"])
def test_each_new_verb_offers_the_merge_its_hooks(verb: str) -> None:
    """What the one console entry point registers: add_arguments, run, main."""
    module = importlib.import_module(f"togather_deploy.cli.{verb}")
    for name in ("add_arguments", "run", "main", "build_parser"):
        assert callable(getattr(module, name)), name
