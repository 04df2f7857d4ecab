"""ConfigFiles provider: called over the wire like the engine."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from components.providers.monitoring_files import ConfigFilesProvider, digests
from testkit.ports import closed_port
from testkit.provider_wire import UNKNOWN, ProviderCallError, ProviderWire, Secret

P = ConfigFilesProvider()


class _Reloads(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.server.calls.append(self.path)  # type: ignore[attr-defined]
        status = self.server.status  # type: ignore[attr-defined]
        body = b"bad config: line 3" if status >= 400 else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def reload_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Reloads)
    server.calls = []  # type: ignore[attr-defined]
    server.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _props(directory: str, files: dict[str, str], url: str | None = None) -> dict[str, Any]:
    return {"directory": directory, "files": files, "mode": 0o644, "reload_url": url}


def test_check_refuses_paths_outside_the_directory(tmp_path: Any, wire: ProviderWire) -> None:
    result = wire.check(P, {}, _props(str(tmp_path), {"../etc/passwd": "x", "a//b": "y"}))
    assert len(result.failures) == 2
    assert not wire.check(P, {}, _props(str(tmp_path), {"rules/a.yml": "x"})).failures
    assert wire.check(P, {}, _props("relative", {"a": "x"})).failures


def test_diff_compares_contents_by_digest(tmp_path: Any, wire: ProviderWire) -> None:
    olds = {"directory": str(tmp_path), "mode": 0o644, "reload_url": None, "digests": digests({"a": "1"})}
    same = wire.diff(P, "id", olds, _props(str(tmp_path), {"a": "1"}))
    assert not same.changes
    changed = wire.diff(P, "id", olds, _props(str(tmp_path), {"a": "2"}))
    assert changed.changes and not changed.replaces
    moved = wire.diff(P, "id", olds, _props(str(tmp_path / "x"), {"a": "1"}))
    assert moved.replaces == ["directory"]


def test_create_writes_atomically_and_never_pokes_the_port(tmp_path: Any,
                                                          reload_server: ThreadingHTTPServer,
                                                          wire: ProviderWire) -> None:
    """Create comes before the container: whatever listens on the port now is not ours."""
    directory = str(tmp_path / "prometheus")
    url = f"http://127.0.0.1:{reload_server.server_address[1]}/-/reload"
    files = {"prometheus.yml": "a: 1\n", "rules/t.yml": "g\n"}
    result = wire.create(P, _props(directory, files, url))
    assert result.outs["reloaded"] is False
    with open(os.path.join(directory, "rules/t.yml")) as fh:
        assert fh.read() == "g\n"
    assert stat.S_IMODE(os.stat(os.path.join(directory, "prometheus.yml")).st_mode) == 0o644
    assert not [f for f in os.listdir(directory) if f.endswith(".tmp")]
    assert "a: 1" not in str(result.outs)  # contents are not recorded, only digests
    assert reload_server.calls == []  # type: ignore[attr-defined]


def test_update_tolerates_a_tool_that_is_not_running(tmp_path: Any, wire: ProviderWire) -> None:
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}/-/reload"
        first = wire.create(P, _props(str(tmp_path), {"a.yml": "1"}, url))
        second = wire.update(P, str(tmp_path), first.outs, _props(str(tmp_path), {"a.yml": "2"}, url))
    assert second.outs["reloaded"] is False
    assert (tmp_path / "a.yml").read_text() == "2"


def test_update_reloads_the_running_tool_and_drops_stale_files(tmp_path: Any,
                                                               reload_server: ThreadingHTTPServer,
                                                               wire: ProviderWire) -> None:
    directory = str(tmp_path)
    url = f"http://127.0.0.1:{reload_server.server_address[1]}/-/reload"
    first = wire.create(P, _props(directory, {"a.yml": "1", "old.yml": "x"}, url))
    (tmp_path / "operator-notes.txt").write_text("keep me")
    second = wire.update(P, directory, first.outs, _props(directory, {"a.yml": "2"}, url))
    assert second.outs["reloaded"] is True
    assert reload_server.calls == ["/-/reload"]  # type: ignore[attr-defined]
    assert sorted(os.listdir(directory)) == ["a.yml", "operator-notes.txt"]
    wire.delete(P, directory, second.outs)
    assert os.listdir(directory) == ["operator-notes.txt"]


def test_refresh_sees_lost_edited_or_planted_files_and_the_next_update_writes_them(
        tmp_path: Any, reload_server: ThreadingHTTPServer, wire: ProviderWire) -> None:
    """A targeted refresh (``read``) records the digests of the files on the host and never
    writes; the pure ``diff`` then sees the difference, and ``update`` restores and reloads."""
    directory = tmp_path / "prometheus"
    url = f"http://127.0.0.1:{reload_server.server_address[1]}/-/reload"
    files = {"prometheus.yml": "a: 1\n", "rules/t.yml": "g\n", "rules/u.yml": "h\n"}
    props = _props(str(directory), files, url)
    created = wire.create(P, props).outs
    assert wire.read(P, str(directory), created).outs == created
    (directory / "prometheus.yml").unlink()
    (directory / "rules/t.yml").write_text("edited by hand\n")
    outside = tmp_path / "outside.yml"
    outside.write_text("h\n")  # the same text, reached through a planted link
    (directory / "rules/u.yml").unlink()
    (directory / "rules/u.yml").symlink_to(outside)
    read = wire.read(P, str(directory), created).outs
    assert read["digests"] == {"prometheus.yml": "", "rules/t.yml": digests({"x": "edited by hand\n"})["x"],
                               "rules/u.yml": ""}
    (directory / "rules/t.yml").write_text("g\n")
    (directory / "rules/t.yml").chmod(0o666)  # the right text, made writable by anyone
    assert wire.read(P, str(directory), created).outs["digests"]["rules/t.yml"] == ""
    assert not (directory / "prometheus.yml").exists()  # read never writes
    assert wire.diff(P, str(directory), read, props).changes
    again = wire.update(P, str(directory), read, props).outs
    assert reload_server.calls == ["/-/reload"]  # type: ignore[attr-defined]
    # same digests as created, a new generation: what a SIGHUP-reloaded tool triggers on
    assert (again["digests"], created["generation"], again["generation"]) == (created["digests"], 1, 2)
    assert {rel: (directory / rel).read_text() for rel in files} == files
    assert {stat.S_IMODE((directory / rel).stat().st_mode) for rel in files} == {0o644}
    assert not (directory / "rules/u.yml").is_symlink() and outside.read_text() == "h\n"
    assert not wire.diff(P, str(directory), wire.read(P, str(directory), again).outs, props).changes
    older = {k: v for k, v in created.items() if k != "digests"}  # state without digests
    assert wire.read(P, str(directory), older).outs == older


def test_a_rejected_config_fails_the_update_with_the_tool_s_answer(
        tmp_path: Any, reload_server: ThreadingHTTPServer, wire: ProviderWire) -> None:
    reload_server.status = 500  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{reload_server.server_address[1]}/-/reload"
    first = wire.create(P, _props(str(tmp_path), {"a.yml": "1"}, url))
    with pytest.raises(ProviderCallError) as err:
        wire.update(P, str(tmp_path), first.outs, _props(str(tmp_path), {"a.yml": "2"}, url))
    assert err.value.type_name == "DeployError"
    assert "rejected its new config (500)" in err.value.message and "bad config" in err.value.message


def test_a_group_keeps_secret_files_from_other_users(tmp_path: Any, wire: ProviderWire) -> None:
    directory = str(tmp_path / "alertmanager")
    props = {**_props(directory, {"alertmanager.yml": "url: https://ntfy.sh/topic\n"}), "mode": 0o640,
             "group": 65534}
    if os.geteuid() != 0:
        with pytest.raises(ProviderCallError, match="run `pulumi up` as root"):
            wire.create(P, props)
        return
    result = wire.create(P, props)
    info = os.stat(os.path.join(directory, "alertmanager.yml"))
    assert (stat.S_IMODE(info.st_mode), info.st_gid) == (0o640, 65534)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o750
    moved = wire.diff(P, directory, result.outs, {**props, "group": None})
    assert moved.changes


def test_secret_files_reach_the_disk_but_never_an_output_or_an_error(tmp_path: Any,
                                                                    wire: ProviderWire) -> None:
    topic = "ntfy-topic-s3cr3t-0123456789"
    directory = str(tmp_path / "alertmanager")
    files = Secret({"alertmanager.yml": f"url: https://ntfy.sh/{topic}\n"})
    props = {**_props(directory, {}), "files": files}
    checked = wire.check(P, {}, props)
    assert not checked.failures
    result = wire.create(P, checked.inputs)
    with open(os.path.join(directory, "alertmanager.yml")) as fh:
        assert topic in fh.read()  # unwrapped: the plain text reached the provider
    assert topic not in repr(result.outs) and "files" not in result.outs
    bad = wire.check(P, {}, {**props, "files": Secret({"a.yml": 12345678987})})
    assert [f.property for f in bad.failures] == ["files"]
    assert "12345678987" not in repr(bad.failures) and "not shown" in bad.failures[0].reason


def test_preview_with_an_unknown_directory_does_not_crash(tmp_path: Any, preview_wire: ProviderWire) -> None:
    olds = {"directory": str(tmp_path), "mode": 0o644, "digests": digests({"a": "1"})}
    news = _props(UNKNOWN, {"a": "1"})
    assert not preview_wire.check(P, {}, news).failures
    diff = preview_wire.diff(P, str(tmp_path), olds, news)
    assert diff.changes is True and diff.replaces == ["directory"]
    assert os.listdir(tmp_path) == []
