"""Call a dynamic provider exactly as the Pulumi engine does: over gRPC, through protobuf Structs.

Contract — what this reproduces of the engine:
- The provider runs in the SDK's own server, ``python -m pulumi.dynamic``, started
  with the project root as working directory and an empty ``PYTHONPATH`` (as the
  language host starts it). It is sent ``Configure`` first, then ``Check``/
  ``Diff``/``Create``/``Update``/``Delete``/``Read`` requests whose properties
  are built by ``pulumi.runtime.rpc.serialize_properties`` and carry the
  ``__provider`` field (``serialize_provider``: dill, as the program sends it).
  So every number arrives as a float, ``None`` values are dropped (at every
  depth), lists and dicts are rebuilt, and the provider instance is the one
  ``dill`` recreates — cached in that process across calls, as in one update.
- Preview (``ProviderWire(preview=True)``): values the test passes as
  ``UNKNOWN`` are sent as the engine's unknown sentinel; ``check``/``diff``
  receive them as ``pulumi.output.Unknown``. ``create``/``update`` are not sent
  to the provider (the dynamic provider does not declare ``supportsPreview``):
  the engine shows the checked inputs as the planned outputs, and so do we.
- Secrets: a test wraps an input as ``Secret(value)``. The server answers
  ``Configure`` with ``acceptSecrets: false``, so, like the engine, we send the
  plain value, and mark secret every output whose key was a secret input
  (``annotateSecrets``); ``secret_outputs`` of a result names them.
- Failures: the server aborts the call with ``traceback.format_exc()`` (frames unless
  the provider limited them: ``components.providers.failures``); we raise
  ``ProviderCallError`` with the exception's type name and message, and the whole text
  the engine prints.

What it does not reproduce: the engine's state file (the caller passes the
recorded outputs back itself), ``ignoreChanges``, ``replaceOnChanges``,
``additionalSecretOutputs``, timeouts and cancellation, and the engine's own
unknown-propagation through outputs during preview.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

from testkit.wire_values import (
    Applied,
    Checked,
    Diffed,
    Failure,
    ProviderCallError,
    Secret,
    known_value,
    parse_traceback,
    plain_value,
    secret_keys,
)
from togather_deploy import ROOT

__all__ = ["UNKNOWN", "Applied", "Checked", "Diffed", "Failure", "ProviderCallError", "ProviderWire",
           "Secret", "parse_traceback", "wire_session"]
UNKNOWN = rpc.UNKNOWN
"""Pass this as an input value to send "not known until apply" (meaningful in preview)."""
URN = "urn:pulumi:test::togather-deploy::pulumi-python:dynamic:Resource::under-test"


class _Server:
    """One ``python -m pulumi.dynamic`` process and its configured gRPC stub."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pulumi.dynamic"], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=self.log, env={**os.environ, "PYTHONPATH": "", **env})
        assert self.proc.stdout is not None
        port = self.proc.stdout.readline().decode().strip()
        if not port.isdigit():
            self.close()
            raise AssertionError(f"python -m pulumi.dynamic did not start: {self.stderr()}")
        # a provider that prints must never block on a full pipe: drain stdout from now on
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        configured = self.stub.Configure(proto.ConfigureRequest(
            args=struct_pb2.Struct(), acceptSecrets=True, acceptResources=True))
        self.accept_secrets = configured.acceptSecrets

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def close(self) -> None:
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        self.proc.kill()
        self.proc.wait()
        self.log.close()


class ProviderWire:
    """The tests' one way to call a provider. One server per (env) for the wire's lifetime."""

    def __init__(self, *, preview: bool = False) -> None:
        self.preview = preview
        self._servers: dict[tuple[tuple[str, str], ...], _Server] = {}

    def close(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()

    def __enter__(self) -> ProviderWire:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _server(self, env: Mapping[str, str] | None) -> _Server:
        key = tuple(sorted((env or {}).items()))
        if key not in self._servers:
            self._servers[key] = _Server(env or {})
        return self._servers[key]

    def _struct(self, provider: ResourceProvider, props: Mapping[str, Any] | None) -> struct_pb2.Struct:
        bag = {**plain_value(dict(props or {})), "__provider": serialize_provider(provider)}
        loop = asyncio.new_event_loop()  # not asyncio.run: it would unset the thread's loop
        try:
            return loop.run_until_complete(rpc.serialize_properties(bag, {}))
        finally:
            loop.close()

    @staticmethod
    def _props(struct: struct_pb2.Struct) -> dict[str, Any]:
        props = rpc.deserialize_properties(struct, keep_unknowns=True)
        return {k: known_value(v) for k, v in props.items() if k != "__provider"}

    def _call(self, env: Mapping[str, str] | None, method: str, request: Any) -> Any:
        server = self._server(env)
        try:
            return getattr(server.stub, method)(request, timeout=600)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.UNKNOWN:
                text = exc.details() or ""
                raise ProviderCallError(*parse_traceback(text), text=text) from None
            raise AssertionError(f"{method}: {exc.code()} {exc.details()}\n{server.stderr()}") from None

    def check(self, provider: ResourceProvider, olds: Mapping[str, Any], news: Mapping[str, Any], *,
              env: Mapping[str, str] | None = None) -> Checked:
        olds_s = self._struct(provider, olds) if olds else struct_pb2.Struct()
        resp = self._call(env, "Check", proto.CheckRequest(urn=URN, olds=olds_s,
                                                           news=self._struct(provider, news)))
        return Checked(self._props(resp.inputs), [Failure(f.property, f.reason) for f in resp.failures])

    def diff(self, provider: ResourceProvider, id_: str, olds: Mapping[str, Any],
             news: Mapping[str, Any], *, env: Mapping[str, str] | None = None) -> Diffed:
        resp = self._call(env, "Diff", proto.DiffRequest(
            id=id_, urn=URN, olds=self._struct(provider, olds), news=self._struct(provider, news)))
        changes = {proto.DiffResponse.DIFF_SOME: True, proto.DiffResponse.DIFF_NONE: False}
        return Diffed(changes.get(resp.changes), list(resp.replaces), resp.deleteBeforeReplace)

    def create(self, provider: ResourceProvider, props: Mapping[str, Any], *,
               env: Mapping[str, str] | None = None) -> Applied:
        if self.preview:
            return Applied("", self._props(self._struct(provider, props)), secret_keys(props))
        request = proto.CreateRequest(urn=URN, properties=self._struct(provider, props))
        resp = self._call(env, "Create", request)
        return Applied(resp.id, self._props(resp.properties), secret_keys(props))

    def update(self, provider: ResourceProvider, id_: str, olds: Mapping[str, Any],
               news: Mapping[str, Any], *, env: Mapping[str, str] | None = None) -> Applied:
        if self.preview:
            return Applied(id_, self._props(self._struct(provider, news)), secret_keys(news))
        resp = self._call(env, "Update", proto.UpdateRequest(
            id=id_, urn=URN, olds=self._struct(provider, olds), news=self._struct(provider, news)))
        return Applied(id_, self._props(resp.properties), secret_keys(news))

    def delete(self, provider: ResourceProvider, id_: str, props: Mapping[str, Any], *,
               env: Mapping[str, str] | None = None) -> None:
        request = proto.DeleteRequest(id=id_, urn=URN, properties=self._struct(provider, props))
        self._call(env, "Delete", request)

    def read(self, provider: ResourceProvider, id_: str, props: Mapping[str, Any], *,
             env: Mapping[str, str] | None = None) -> Applied:
        request = proto.ReadRequest(id=id_, urn=URN, properties=self._struct(provider, props))
        resp = self._call(env, "Read", request)
        return Applied(resp.id, self._props(resp.properties), secret_keys(props))


def wire_session(*, preview: bool = False) -> Iterator[ProviderWire]:
    """Body of the ``wire`` / ``preview_wire`` fixtures: servers closed at the end of the test."""
    with ProviderWire(preview=preview) as w:
        yield w
