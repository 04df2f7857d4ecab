"""ContainerSpec → pulumi-docker arguments: the pieces the program adds beyond the spec."""

from __future__ import annotations

from dataclasses import replace

import pytest

from components.docker_args import wait_healthy_args
from testkit.program import ROOT
from togather_deploy.config.source import from_stack_file
from togather_deploy.render.containers import HealthSpec, database_spec, router_spec


def test_wait_timeout_outlasts_docker_s_unhealthy_verdict() -> None:
    cfg = from_stack_file(ROOT, "dev")
    spec = replace(router_spec(cfg), health=HealthSpec(("CMD", "true"), interval_s=7, timeout_s=2,
                                                       retries=4, start_period_s=11))
    args = wait_healthy_args(spec)
    assert args["wait"] is True
    assert args["wait_timeout"] > 11 + 4 * (7 + 2)  # start period, then 4 failed probes
    assert wait_healthy_args(database_spec(cfg, "pw"))["wait_timeout"] == 120  # 60 + 4 × (10 + 5)


def test_waiting_needs_a_health_check() -> None:
    cfg = from_stack_file(ROOT, "dev")
    with pytest.raises(ValueError, match="dev-router: waiting for health needs a health check"):
        wait_healthy_args(replace(router_spec(cfg), health=None))
