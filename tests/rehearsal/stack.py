"""One rehearsal stack on the real Docker engine, driven by the project's own modules.

The stack config is a ``DeployConfig`` from ``togather_deploy.config.model.load_config``;
every container is its ``togather_deploy.render.containers`` spec run through
``togather_deploy.commands.docker``; migrations, snapshots, the router files, the health
gate and the switch are the library functions the providers call. Only the
Pulumi engine is missing: each method is one step it would take.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Mapping
from typing import Any

from components.providers import health_gate, router_config, traffic_switch
from components.providers.router_config import router_config_props
from components.traffic import gate_props, switch_props
from testkit import docker
from testkit.ports import wait_port
from tests.rehearsal import rehearsal_config as rc
from tests.rehearsal.app_images import RehearsalImages
from togather_deploy.commands import docker as docker_cli
from togather_deploy.commands import runner
from togather_deploy.config.model import DeployConfig
from togather_deploy.db.migrations.apply import UpResult, migrate_up
from togather_deploy.db.migrations.files import load_migrations
from togather_deploy.db.snapshots.dump import Target, create_snapshot
from togather_deploy.db.snapshots.store import SnapshotInfo, verify_snapshot
from togather_deploy.errors import DeployError
from togather_deploy.render.containers import app_spec, database_spec, database_url, router_spec
from togather_deploy.render.nginx import router_params


class Rehearsal:
    """A stack named ``rh<random>`` with its own network, volume, ports and state dir."""

    def __init__(self, imgs: RehearsalImages, *, first_migrations: int = 3) -> None:
        self.images = imgs
        self.stack = f"rh{uuid.uuid4().hex[:8]}"
        self.state_dir = tempfile.mkdtemp(prefix=f"togather-{self.stack}-")
        os.chmod(self.state_dir, 0o755)
        self.migrations_dir = os.path.join(self.state_dir, "migrations")
        os.makedirs(self.migrations_dir)
        self.add_migrations(first_migrations)
        self.password = secrets.token_hex(16)
        self.raw = rc.initial_raw(imgs, state_dir=self.state_dir, migrations_dir=self.migrations_dir,
                                  password=self.password)
        self.cfg = self._load(self.raw)

    # -- config ---------------------------------------------------------------------------
    def _load(self, raw: Mapping[str, Any]) -> DeployConfig:
        return rc.load(raw, stack=self.stack, project_dir=self.state_dir)

    def configure(self, **changes: Any) -> DeployConfig:
        """``pulumi config set`` for the rehearsal: merge, re-validate, keep."""
        self.raw = rc.merge(self.raw, changes)
        self.cfg = self._load(self.raw)
        return self.cfg

    def preview(self, **changes: Any) -> DeployConfig:
        """The config ``changes`` would give, without keeping it."""
        return self._load(rc.merge(self.raw, changes))

    def add_migrations(self, upto: int) -> list[str]:
        return rc.copy_migrations(self.migrations_dir, upto)

    @property
    def labels(self) -> dict[str, str]:
        return {"togather.project": rc.PROJECT, "togather.stack": self.stack}

    def secrets_for(self, cfg: DeployConfig | None = None) -> dict[str, str]:
        cfg = cfg or self.cfg
        s = cfg.secrets
        assert s.jwt_secret and s.csrf_key and s.database_password
        return {"DATABASE_URL": database_url(cfg, s.database_password), "JWT_SECRET": s.jwt_secret,
                "CSRF_KEY": s.csrf_key}

    @property
    def host_db_url(self) -> str:
        db = self.cfg.database
        return f"postgresql://{db.user}:{self.password}@127.0.0.1:{db.host_port}/{db.name}"

    # -- the steps the program takes -------------------------------------------------------
    def create_network_and_volume(self) -> None:
        net = self.cfg.network
        runner.run(docker_cli.network_create_argv(self.cfg.network_name, self.labels, subnet=net.subnet,
                                                  gateway=net.gateway, ip_range=net.ip_range),
                   timeout=60)
        runner.run(docker_cli.volume_create_argv(self.cfg.name("pgdata"), self.labels), timeout=60)

    def start_database(self) -> None:
        docker.run_spec(database_spec(self.cfg, self.password))
        self.wait_database()

    def wait_database(self, timeout_s: float = 90) -> None:
        """The spec's own health command (``pg_isready``), run now instead of every 10 s."""
        spec = database_spec(self.cfg, self.password)
        assert spec.health is not None
        check = runner.docker_exec(spec.name, spec.health.test[1:])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if runner.run(check, check=False, timeout=30).ok:
                wait_port(self.cfg.database.host_port, timeout=30)
                return
            time.sleep(0.5)
        raise DeployError(f"database {spec.name} not ready after {timeout_s:.0f}s",
                          context={"logs": docker.logs(spec.name)[-1500:]})

    def migrate(self, snapshot: str | None = None) -> UpResult:
        result = migrate_up(self.host_db_url, load_migrations(self.cfg.migrations.dir), snapshot=snapshot)
        # The job queue's tables come from `river migrate-up` upstream; the demo app only
        # checks that river_job exists (else /health says degraded).
        self.psql("CREATE TABLE IF NOT EXISTS river_job (id bigserial PRIMARY KEY)")
        return result

    def psql(self, sql: str, database: str | None = None) -> str:
        db = self.cfg.database
        argv = runner.docker_exec(self.cfg.name("db"), ("psql", "-U", db.user, "-d", database or db.name,
                                                        "-v", "ON_ERROR_STOP=1", "-At", "-c", sql))
        return runner.run(argv, timeout=60, what="psql").stdout.strip()

    def router_props(self, cfg: DeployConfig | None = None) -> dict[str, Any]:
        """The ``RouterConfig`` resource's inputs, as the program builds them."""
        cfg = cfg or self.cfg
        return router_config_props(cfg, router_params(cfg))

    def write_router_files(self, cfg: DeployConfig | None = None) -> dict[str, Any]:
        """What the ``RouterConfig`` provider does: candidate, ``nginx -t``, then live files."""
        return router_config.apply(self.router_props(cfg), None)

    def snapshot(self, reason: str) -> SnapshotInfo:
        """``pg_dump`` through ``docker exec`` into ``snapshots.dir``, then verified."""
        snap = create_snapshot(self.host_db_url, self.cfg.snapshots.dir,
                               target=Target(self.cfg.snapshots.mode, self.cfg.name("db")),
                               app_version=self.cfg.slot(self.cfg.active_color).version or "",
                               reason=reason)
        verify_snapshot(snap)
        return snap

    def start_router(self) -> None:
        docker.run_spec(router_spec(self.cfg))
        self.wait_router()

    def wait_router(self, timeout_s: float = 30) -> None:
        """Until a request through the published port is answered (docker-proxy accepts
        connections before nginx listens, so an open port proves nothing)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.served()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def start_slot(self, color: str, cfg: DeployConfig | None = None) -> None:
        """Run ``color``'s container (replacing any previous one of that name)."""
        cfg = cfg or self.cfg
        spec = app_spec(cfg, color, self.secrets_for(cfg))
        docker.remove(spec.name)
        docker.run_spec(spec)

    def gate(self, color: str, cfg: DeployConfig | None = None) -> dict[str, Any]:
        """The ``HealthGate`` provider's run: start a stopped slot, then ``wait_healthy``."""
        cfg = cfg or self.cfg
        name = cfg.name(f"app-{color}")
        return health_gate.run_gate(gate_props(cfg, color, container_name=name, container_id=""))

    def switch(self, color: str) -> dict[str, Any]:
        """The ``TrafficSwitch`` provider's flip: check the target, replace ``active_color``
        (no reload), verify through the public port, then drain and stop the old colour
        when ``stopIdleSlot``. Keeps ``activeColor`` as the operator would."""
        cfg = self.preview(activeColor=color)
        out = traffic_switch.switch(switch_props(cfg, idle_container=cfg.name(f"app-{cfg.idle_color}"),
                                                 gate_checked_at=None))
        self.cfg, self.raw = cfg, rc.merge(self.raw, {"activeColor": color})
        return out

    def bootstrap(self) -> None:
        """Step 1 from nothing: network, volume, database, migrations, snapshot, blue, gate,
        router, switch."""
        self.create_network_and_volume()
        self.start_database()
        self.migrate()
        self.snapshot("initial")
        self.start_slot("blue")
        self.gate("blue")
        self.write_router_files()
        self.start_router()
        self.switch("blue")  # TrafficSwitch's create: verified through the public port

    # -- looking at it ---------------------------------------------------------------------
    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.cfg.public_port}"

    def served(self, path: str = "/api/v1/events") -> tuple[str, str]:
        """(colour, version) that answered one request through the published port."""
        with urllib.request.urlopen(self.public_url + path, timeout=10) as resp:
            return resp.headers["X-Togather-Slot"], resp.headers["X-Togather-Version"]

    def served_preview(self, path: str = "/api/v1/events") -> tuple[str, str] | None:
        """What the loopback preview listener (the idle colour) answers; ``None`` on failure."""
        url = f"http://127.0.0.1:{self.cfg.router.preview_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                return resp.headers["X-Togather-Slot"], resp.headers["X-Togather-Version"]
        except OSError:
            return None

    def router_workers(self) -> list[str]:
        """PIDs of nginx's worker processes: a reload replaces them, a flip must not."""
        top = runner.run(("docker", "top", self.cfg.name("router"), "-eo", "pid,args"), timeout=30).stdout
        return sorted(line.split()[0] for line in top.splitlines() if "worker process" in line)

    def teardown(self) -> None:
        docker.cleanup(self.labels, networks=[self.cfg.network_name], volumes=[self.cfg.name("pgdata")])
        shutil.rmtree(self.state_dir, ignore_errors=True)
