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

_SCRIPT = r'''
import json, os, sys, time
import yaml

LOG, PLAN = os.environ["FAKE_PULUMI_LOG"], os.environ["FAKE_PULUMI_PLAN"]
argv = sys.argv[1:]

def on_sigint(signum, frame):  # the real CLI cancels the update cleanly on SIGINT
    with open(LOG, "a") as fh:
        fh.write(json.dumps({"argv": argv, "verb": "<SIGINT>", "cwd": "", "env": {}}) + "\n")
    print("error: update canceled", flush=True)
    sys.exit(255)

import signal
signal.signal(signal.SIGINT, on_sigint)

def opt(name):
    return argv[argv.index(name) + 1] if name in argv and argv.index(name) + 1 < len(argv) else None

words = [a for i, a in enumerate(argv) if not a.startswith("-")
         and (i == 0 or argv[i - 1] not in ("--stack", "--cwd", "-s", "-C"))]
verb = " ".join(words[:2]) if words[:1] in (["config"], ["stack"]) else (words[0] if words else "")
cwd = opt("--cwd") or os.getcwd()
with open(PLAN) as fh:
    plan = json.load(fh)
previous = 0
if os.path.exists(LOG):
    with open(LOG) as fh:
        previous = sum(1 for line in fh if json.loads(line)["verb"] == verb)
with open(LOG, "a") as fh:
    env = {k: v for k, v in os.environ.items() if k.startswith("PULUMI_")}
    fh.write(json.dumps({"argv": argv, "verb": verb, "cwd": cwd, "env": env}) + "\n")
nth = previous + 1
for rule in plan.get("rules", []):
    if rule["verb"] == verb and rule.get("nth") in (None, nth):
        if rule.get("sleep"):
            time.sleep(rule["sleep"])
        for path, text in (rule.get("write") or {}).items():
            with open(path, "w") as out:
                out.write(text)
        if rule.get("run"):  # what the real engine would do, e.g. the real gate and switch code
            import subprocess
            hook_env = dict(os.environ, FAKE_PULUMI_CWD=cwd, FAKE_PULUMI_STACK=opt("--stack") or "")
            done = subprocess.run(rule["run"], env=hook_env, capture_output=True, text=True)
            sys.stdout.write(done.stdout)
            sys.stderr.write(done.stderr)
            if done.returncode:
                sys.exit(done.returncode)
        if rule.get("exit"):
            sys.stdout.write(rule.get("stdout", ""))
            sys.stderr.write(rule.get("stderr", ""))
            sys.exit(rule["exit"])
        break
if verb == "version":
    print("v3.272.0")
elif verb in ("stack select", "whoami"):
    pass
elif verb == "stack history":
    print(json.dumps([{"kind": "update", "startTime": "2026-01-01T00:00:00.000Z", "message": "",
                       "environment": {}, "config": {}, "result": "succeeded", "version": 1}]))
elif verb == "config set":
    rest = [a for a in words[2:]]
    key, value = rest[0], rest[1]
    path = os.path.join(cwd, "Pulumi.%s.yaml" % opt("--stack"))
    with open(path) as fh:
        doc = yaml.safe_load(fh) or {}
    config = doc.setdefault("config", {})
    if "--path" in argv and "." in key:
        top, _, sub = key.partition(".")
        section = config.get(top) if isinstance(config.get(top), dict) else {}
        section[sub] = value
        config[top] = section
    else:
        config[key] = value
    with open(path + ".tmp", "w") as fh:
        yaml.safe_dump(doc, fh, sort_keys=False)
    os.replace(path + ".tmp", path)
elif verb == "stack output":
    print(json.dumps(plan.get("outputs", {})))
elif verb == "config" and "--json" in argv:  # `pulumi config --show-secrets --json`
    with open(os.path.join(cwd, "Pulumi.%s.yaml" % opt("--stack"))) as fh:
        config = (yaml.safe_load(fh) or {}).get("config") or {}

    def reveal(value):  # this fake's "decryption": a secure value's text is the secret itself
        if isinstance(value, dict) and set(value) == {"secure"}:
            return value["secure"], True
        if isinstance(value, dict):
            pairs = {k: reveal(v) for k, v in value.items()}
            return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
        return value, False

    shown = {}
    for key, value in config.items():
        plain, secret = reveal(value)
        text = json.dumps(plain) if isinstance(plain, (dict, list)) else (
            str(plain).lower() if isinstance(plain, bool) else str(plain))
        shown[key] = {"value": text, "secret": secret}
        if isinstance(plain, (dict, list)):
            shown[key]["objectValue"] = plain
    print(json.dumps(shown))
elif verb == "up":
    stack = opt("--stack")
    print("Updating (%s):\n    pulumi:pulumi:Stack togather-deploy-%s running" % (stack, stack))
    print("Resources:\n    unchanged")
    # like the program's exports, kept in the "backend" (the plan), not in the stack file
    with open(os.path.join(cwd, "Pulumi.%s.yaml" % stack)) as fh:
        conf = (yaml.safe_load(fh) or {}).get("config") or {}
    slots = {c: conf.get("togather:" + c) or {} for c in ("blue", "green")}
    plan.setdefault("outputs", {}).update(
        activeColor=conf.get("togather:activeColor", "blue"),
        versions={c: s["version"] for c, s in slots.items() if isinstance(s, dict) and s.get("version")})
    with open(PLAN + ".tmp", "w") as fh:
        json.dump(plan, fh)
    os.replace(PLAN + ".tmp", PLAN)
'''


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
    _executable(os.path.join(bin_dir, "pulumi"), f"#!{sys.executable}\n{_SCRIPT}")
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

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return subprocess.run([os.path.join(root, "scripts", verb), *args], input=stdin,
                          env=env if env is not None else fake.env() if fake else None,
                          capture_output=True, text=True,
                          timeout=timeout, check=False)
