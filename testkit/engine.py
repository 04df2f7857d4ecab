"""The real Pulumi engine, as ``scripts/build-engine`` built it, driven through its CLI.

``find_engine()`` says where the engine is, or why it cannot run (the skip reason: never a
silent pass). ``Workspace`` is one throwaway project + local file backend + passphrase, the
way a small team runs the tool (``pulumi login file://…``): every call is a real CLI run of
the real program, with the built plugins and nothing downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

import yaml

from togather_deploy import ROOT

BUILD_SCRIPT = os.path.join(ROOT, "scripts", "build-engine")
PASSPHRASE = "engine-tests-only"
# The program's own files, linked into each workspace (stack files are the workspace's own).
PROJECT_ENTRIES = ("__main__.py", "components", "togather_deploy", "policy", "migrations", "demo-app", "venv")


@dataclass(frozen=True)
class Engine:
    dir: str
    version: str
    plugins: tuple[str, ...]
    """Resource plugins installed (``docker``, ``random``, ``command``)."""
    not_built: dict[str, str] = field(default_factory=dict)
    """Plugin name → why it could not be built here."""

    @property
    def bin_dir(self) -> str:
        return os.path.join(self.dir, "bin")

    @property
    def plugins_dir(self) -> str:
        return os.path.join(self.dir, "home", "plugins")

    def missing(self, *names: str) -> str | None:
        """The skip reason when a plugin the test needs is not installed."""
        gone = [n for n in names if n not in self.plugins]
        if not gone:
            return None
        return "; ".join(f"resource plugin {n} not built: {self.not_built.get(n, 'absent')}" for n in gone)


def engine_dir() -> str:
    proc = subprocess.run([BUILD_SCRIPT, "--dir"], capture_output=True, text=True, timeout=60, check=False)
    return proc.stdout.strip()


def find_engine() -> Engine | str:
    """The built engine, or the reason it cannot run (``scripts/build-engine`` not run, or failed)."""
    if shutil.which("go") is None:
        return "no Go toolchain: the engine is built from Go modules (scripts/build-engine)"
    directory = os.environ.get("TOGATHER_ENGINE_DIR") or engine_dir()
    manifest = os.path.join(directory, "manifest.json")
    if not directory or not os.path.isfile(manifest):
        return f"the Pulumi engine is not built ({directory or '?'}): run scripts/build-engine"
    with open(manifest, encoding="utf-8") as fh:
        data = json.load(fh)
    for binary in ("pulumi", "pulumi-language-python"):
        if not os.access(os.path.join(directory, "bin", binary), os.X_OK):
            return f"{binary} missing from {directory}/bin: run scripts/build-engine again"
    plugins = tuple(sorted(p["name"] for p in data.get("plugins", [])))
    not_built = {p["name"]: p["reason"] for p in data.get("not_built", [])}
    return Engine(dir=directory, version=data["pulumi"], plugins=plugins, not_built=not_built)


class Workspace:
    """A project directory linked to the real program, with its own backend and PULUMI_HOME."""

    def __init__(self, engine: Engine, tmp: str, *, entries: tuple[str, ...] = PROJECT_ENTRIES,
                 program: str | None = None) -> None:
        self.engine = engine
        self.project = os.path.join(tmp, "project")
        self.backend = os.path.join(tmp, "backend")
        home = os.path.join(tmp, "pulumi-home")
        for d in (self.project, self.backend, home):
            os.makedirs(d, exist_ok=True)
        if os.path.isdir(engine.plugins_dir):
            os.symlink(engine.plugins_dir, os.path.join(home, "plugins"))
        shutil.copy(os.path.join(ROOT, "Pulumi.yaml"), self.project)
        for entry in entries:
            os.symlink(os.path.join(ROOT, entry), os.path.join(self.project, entry))
        if program is not None:
            with open(os.path.join(self.project, "__main__.py"), "w", encoding="utf-8") as fh:
                fh.write(program)
        self.env = {
            **os.environ,
            "PATH": f"{engine.bin_dir}:{os.environ.get('PATH', '')}",
            "PULUMI_HOME": home,
            "PULUMI_BACKEND_URL": f"file://{self.backend}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "NO_COLOR": "1",
        }

    def pulumi(self, *args: str, check: bool = True, timeout: float = 900,
               env: dict[str, str] | None = None, stdin: str | None = None,
               ) -> subprocess.CompletedProcess[str]:
        """One real CLI run in the project directory; ``check`` fails the test with its output."""
        proc = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=self.project,
                              env={**self.env, **(env or {})}, capture_output=True, text=True,
                              timeout=timeout, check=False, input=stdin)
        if check and proc.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}")
        return proc

    def stack_file(self, stack: str) -> str:
        return os.path.join(self.project, f"Pulumi.{stack}.yaml")

    def init_stack(self, stack: str, config: dict[str, Any]) -> None:
        """``Pulumi.<stack>.yaml`` with ``config`` (``togather:`` keys), then ``pulumi stack init``."""
        self.write_config(stack, config)
        self.pulumi("stack", "init", stack)

    def write_config(self, stack: str, config: dict[str, Any]) -> None:
        path = self.stack_file(stack)
        current: dict[str, Any] = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                current = yaml.safe_load(fh) or {}
        # keep what the CLI stored (encryptionsalt, secure values) and replace the config
        current["config"] = {**{k: v for k, v in current.get("config", {}).items()
                                if isinstance(v, dict) and "secure" in v}, **config}
        with open(path, "w", encoding="utf-8") as fh:
            yaml.safe_dump(current, fh, sort_keys=False)

    def outputs(self, stack: str, *, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json", "--stack", stack]
        if show_secrets:
            args.append("--show-secrets")
        return json.loads(self.pulumi(*args).stdout)
