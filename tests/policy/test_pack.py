"""The pack as the engine runs it (``python -m pulumi.policy . policy`` over gRPC), and the
real program's resources for every committed stack passing every policy."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs

from policy import rules
from policy.props import SECRET_SIG, SIG_KEY, deserialize_keeping_secrets, env
from tests.conftest import ROOT

PACK_DIR = os.path.join(ROOT, "policy")


def secret(value: Any) -> dict[str, Any]:
    """How the engine marks a secret on the wire (it sends analyzers KeepSecrets: true)."""
    return {SIG_KEY: SECRET_SIG, "value": value}


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", PACK_DIR],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()  # the pack prints its gRPC port
        if not line.isdigit():
            proc.kill()
            err = proc.stderr.read().decode() if proc.stderr else ""
            pytest.fail(f"policy pack did not start: {line!r} {err[-2000:]}")
        channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        proc.kill()
        proc.wait(10)


def analyze(stub: analyzer_pb2_grpc.AnalyzerStub, typ: str, props: dict[str, Any], *,
            protect: bool = False) -> dict[str, str]:
    struct = struct_pb2.Struct()
    json_format.ParseDict(props, struct)
    request = analyzer_pb2.AnalyzeRequest(
        type=typ, name="r", urn=f"urn:pulumi:production::togather-deploy::{typ}::r", properties=struct,
        options=analyzer_pb2.AnalyzerResourceOptions(protect=protect))
    response = stub.Analyze(request, timeout=30)
    return {d.policyName: d.message for d in response.diagnostics}


def test_pack_describes_six_mandatory_policies(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "togather-safety"
    assert {p.name for p in info.policies} == {p.name for p in rules.policies()}
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}


def test_a_safe_container_passes_over_the_wire(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    props = {"name": "app", "image": "ghcr.io/x/server:v1.4.0", "memory": 512,
             "ports": [{"internal": 8080, "external": 18081, "ip": "127.0.0.1"}],
             "envs": [secret("DATABASE_URL=postgres://u:pw@db/x"), "SLOT=blue"],
             "labels": [{"label": "togather.role", "value": "app"}]}
    assert analyze(analyzer, rules.CONTAINER, props) == {}


def test_an_unsafe_container_fails_every_container_policy(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    props = {"name": "app", "image": "nginx:latest",
             "ports": [{"internal": 8080, "external": 8080, "ip": "0.0.0.0"}],
             "envs": ["DATABASE_URL=postgres://u:pw@db/x", "GF_AUTH_ANONYMOUS_ENABLED=true"]}
    found = analyze(analyzer, rules.CONTAINER, props)
    assert set(found) == {"loopback-ports-only", "pinned-images", "container-memory-limit",
                          "grafana-no-anonymous-access", "secret-env-values"}
    assert "pw@db" not in "".join(found.values())


def test_remediate_answers_like_the_engine_asks(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    """The real engine calls Remediate on every resource before Analyze; it failed with
    ``deserialize_keeping_secrets() takes 1 positional argument but 2 were given``."""
    struct = struct_pb2.Struct()
    json_format.ParseDict({"name": "app", "image": "ghcr.io/x/server:v1.4.0",
                           "envs": [secret("JWT_SECRET=s3cret"), "SLOT=blue"]}, struct)
    request = analyzer_pb2.AnalyzeRequest(type=rules.CONTAINER, name="r", properties=struct,
                                          urn=f"urn:pulumi:production::togather-deploy::{rules.CONTAINER}::r")
    assert list(analyzer.Remediate(request, timeout=30).remediations) == []


def test_volume_protection_comes_from_resource_options(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    volume = {"name": "togather-deploy-production-pgdata"}
    assert set(analyze(analyzer, rules.VOLUME, volume)) == {"protected-database-volume"}
    assert analyze(analyzer, rules.VOLUME, volume, protect=True) == {}


@pytest.mark.parametrize("stack", ["dev", "staging", "production"])
def test_the_real_program_passes_every_policy(stack: str) -> None:
    from testkit.program import run_program

    run = run_program(stack)
    violations: list[str] = []
    for reg in run.registrations:
        opts = PolicyResourceOptions(reg.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
        args = ResourceValidationArgs(reg.type, deserialize_keeping_secrets(reg.inputs),
                                      f"urn::{reg.name}", reg.name, opts, None)
        for policy in rules.policies():
            def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
                violations.append(f"{name}: {message}")

            policy.validate(args, report)
    assert run.of_type(rules.CONTAINER), "the program declared no containers"
    assert violations == []
    # The check could fail: the database password reached the policies marked secret.
    db_env = [(n, s) for reg in run.of_type(rules.CONTAINER)
              for n, _v, s in env(deserialize_keeping_secrets(reg.inputs)) if n == "POSTGRES_PASSWORD"]
    assert db_env == [("POSTGRES_PASSWORD", True)]
