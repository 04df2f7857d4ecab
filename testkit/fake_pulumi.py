"""A recording stand-in for the ``pulumi`` CLI, for testing the operator scripts.

The real CLI cannot run here. ``install_fake_pulumi`` writes an executable
``pulumi`` into a directory to put first on ``PATH``. Each call:

- appends ``{"argv", "verb", "cwd", "env"}`` (``env``: the ``PULUMI_*`` variables)
  as one JSON line to the log (and a ``<SIGINT>`` line when interrupted, then exits
  like the real CLI cancelling an update);
- for ``config set [--path] togather:KEY VALUE --stack S --cwd DIR`` edits
  ``DIR/Pulumi.S.yaml`` like the real CLI, so the next read sees the change;
- answers what the Automation API asks around each command (``version``, ``stack select``,
  ``stack history``); ``FakePulumi.verbs`` leaves those out;
- for ``stack output --json`` prints the outputs: those the test set, and, like the program's
  exports, ``activeColor`` and ``versions`` as the last successful ``up`` left them;
- for ``config --show-secrets --json`` prints the stack file's config the way the real CLI
  does (``{"togather:key": {"value", "secret"}}``); a ``secure:`` value's text stands for
  its decrypted value;
- follows the first matching rule of the plan: fail the n-th call of a verb
  with an exit code and output, sleep (to hold a lock), write a file, or run a
  command standing in for the engine (the real gate and switch code).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from typing import Any

from togather_deploy import ROOT

_REPO = ROOT
_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_pulumi_cli.py")
"""The fake's program (a file of its own, so it is linted like any code)."""


BOOKKEEPING = ("version", "stack select", "stack history", "whoami")
"""What the Automation API runs around the real work (version check, selecting the stack,
the update summary)."""


@dataclass(frozen=True)
class FakePulumi:
    bin_dir: str
    log_path: str
    plan_path: str

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment whose ``pulumi`` is this fake."""
        env = dict(os.environ if base is None else base)
        env["PATH"] = self.bin_dir + os.pathsep + env.get("PATH", "")
        env["FAKE_PULUMI_LOG"] = self.log_path
        env["FAKE_PULUMI_PLAN"] = self.plan_path
        env["FAKE_PULUMI_REPO"] = _REPO
        if not env.get("PULUMI_CONFIG_PASSPHRASE_FILE"):  # the scripts' pre-flight asks for one
            env.setdefault("PULUMI_CONFIG_PASSPHRASE", "fake-passphrase")
        return env

    def _plan(self) -> dict[str, Any]:
        with open(self.plan_path, encoding="utf-8") as fh:
            loaded: dict[str, Any] = json.load(fh)
            return loaded

    def _save(self, plan: dict[str, Any]) -> None:
        with open(self.plan_path, "w", encoding="utf-8") as fh:
            json.dump(plan, fh)

    def rule(self, verb: str, *, nth: int | None = None, exit: int = 0, stdout: str = "",
             stderr: str = "", sleep: float = 0, write: dict[str, str] | None = None,
             run: list[str] | None = None) -> None:
        """Add a rule for the ``nth`` call (1-based; ``None``: every call) of ``verb``; the first
        matching rule applies. ``run``: a command standing in for the engine's work (its output
        and a failing exit code become the fake's; it gets ``FAKE_PULUMI_CWD``/``_STACK``)."""
        plan = self._plan()
        plan["rules"].append({"verb": verb, "nth": nth, "exit": exit, "stdout": stdout,
                              "stderr": stderr, "sleep": sleep, "write": write or {},
                              "run": run or []})
        self._save(plan)

    def set_outputs(self, outputs: dict[str, Any]) -> None:
        plan = self._plan()
        plan["outputs"] = outputs
        self._save(plan)

    def all_calls(self) -> list[dict[str, Any]]:
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    def calls(self) -> list[dict[str, Any]]:
        """The calls doing the work: without the API's bookkeeping, one per outputs read."""
        return [c for c in self.all_calls() if c["verb"] not in BOOKKEEPING and not (
            c["verb"] == "stack output" and "--show-secrets" in c["argv"])]

    def verbs(self) -> list[str]:
        """``["config set", "up", ...]`` in call order, with the config key for ``config set``."""
        out = []
        for call in self.calls():
            if call["verb"] == "config set":
                key = next(a for a in call["argv"][2:] if a.startswith("togather:"))
                argv = call["argv"]  # the API passes the value after "--"
                value = argv[argv.index("--") + 1] if "--" in argv else argv[argv.index(key) + 1]
                out.append(f"config set {key}={value}")
            else:
                out.append(call["verb"])
        return out


_DOCKER = """#!/bin/sh
# Stand-in for the docker CLI next to the fake pulumi: the engine "answers" `docker info` (the
# scripts' pre-flight); every other command finds no container, as on a host without the stack.
for a in "$@"; do [ "$a" = info ] && { echo 27.3.1; exit 0; }; done
echo "Error: No such object" >&2
exit 1
"""


def _executable(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def install_fake_pulumi(directory: str, *, docker: bool = True) -> FakePulumi:
    """Write the fake ``pulumi`` (and, with ``docker``, a ``docker`` whose engine answers
    ``docker info``) into ``directory/bin``; returns its handle."""
    bin_dir = os.path.join(directory, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    with open(_SCRIPT, encoding="utf-8") as fh:
        _executable(os.path.join(bin_dir, "pulumi"), f"#!{sys.executable}\n{fh.read()}")
    if docker:
        _executable(os.path.join(bin_dir, "docker"), _DOCKER)
    fake = FakePulumi(bin_dir, os.path.join(directory, "pulumi-calls.jsonl"),
                      os.path.join(directory, "pulumi-plan.json"))
    fake._save({"rules": [], "outputs": {}})
    return fake


def write_stack(project_dir: str, stack: str, config: dict[str, Any]) -> str:
    """``Pulumi.yaml`` + ``Pulumi.<stack>.yaml`` with ``config`` under ``togather:``; the stack file."""
    import yaml

    os.makedirs(project_dir, exist_ok=True)
    with open(os.path.join(project_dir, "Pulumi.yaml"), "w", encoding="utf-8") as fh:
        yaml.safe_dump({"name": "togather-deploy", "runtime": "python"}, fh)
    path = os.path.join(project_dir, f"Pulumi.{stack}.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump({"config": {f"togather:{k}": v for k, v in config.items()}}, fh,
                       sort_keys=False)
    return path


def read_stack(project_dir: str, stack: str) -> dict[str, Any]:
    """The stack file's ``togather:`` config, prefix removed."""
    import yaml

    with open(os.path.join(project_dir, f"Pulumi.{stack}.yaml"), encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    return {k.split(":", 1)[1]: v for k, v in (doc.get("config") or {}).items()}


def run_script(fake: FakePulumi | None, verb: str, *args: str, stdin: str = "",
               timeout: float = 120, env: dict[str, str] | None = None) -> Any:
    """Run ``scripts/<verb> args...`` with this fake ``pulumi`` first on PATH (a CompletedProcess);
    ``env`` replaces the environment outright."""
    import subprocess

    root = ROOT
    return subprocess.run([os.path.join(root, "scripts", verb), *args], input=stdin,
                          env=env if env is not None else fake.env() if fake else None,
                          capture_output=True, text=True,
                          timeout=timeout, check=False)
