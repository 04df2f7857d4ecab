"""Every configured image is a registry reference, checked by one function; the docker CLI
argv never lets a name be read as a flag."""

from __future__ import annotations

from dataclasses import replace

import pytest

from togather_deploy.commands import docker as docker_cli
from togather_deploy.config.image_ref import reference_pinned, release_version_pinned
from togather_deploy.config.model import load_config
from togather_deploy.errors import EXIT_CONFIG, ConfigError
from togather_deploy.render.containers import MountSpec, database_spec

MINIMAL = {"image": "ghcr.io/togather-foundation/server", "blue": {"version": "v1.0.0"},
           "environment": "development"}
SHA = "sha256:" + "a" * 64
BAD = ["-v=/:/host:rw", "nginx:1.27\n--privileged", "nginx:1.27 --privileged", f"-v=/:/h@{SHA}",
       f"x y@{SHA}", "Nginx:1.27", "nginx:latest", "nginx", "nginx:", "nginx:-1", "nginx:1.27:2"]
IMAGE_KEYS = [("database", "image"), ("router", "image"), ("monitoring", "grafanaImage"),
              ("monitoring", "prometheusImage"), ("monitoring", "alertmanagerImage"),
              ("monitoring", "nodeExporterImage"), ("monitoring", "postgresExporterImage")]


def load(raw):
    return load_config({**MINIMAL, **raw}, project="togather-deploy", stack="t", project_dir="/srv")


@pytest.mark.parametrize(("section", "key"), IMAGE_KEYS)
@pytest.mark.parametrize("image", BAD)
def test_every_image_key_refuses_a_malformed_or_unpinned_reference(section, key, image) -> None:
    with pytest.raises(ConfigError) as info:
        load({section: {key: image}})
    assert info.value.key == f"{section}.{key}" and info.value.exit_code == EXIT_CONFIG
    assert f"{section}.{key}: must be an image pinned" in str(info.value)


@pytest.mark.parametrize("image", ["postgis/postgis:16-3.4", "nginx:1.27.3", f"nginx@{SHA}",
                                   f"nginx:1.27.3@{SHA}", "registry.example:5000/team/db:v1_2",
                                   "quay.io/prometheuscommunity/postgres-exporter:v0.16.0"])
def test_good_references_pass(image) -> None:
    assert load({"database": {"image": image}}).database.image == image


@pytest.mark.parametrize("image", ["ghcr.io/org/server:v1", f"ghcr.io/org/server@{SHA}", "-x",
                                   "ghcr.io/org/Server", "a b"])
def test_the_app_repository_has_no_tag_and_no_flag(image) -> None:
    with pytest.raises(ConfigError, match="image: must be an image repository"):
        load({"image": image})


def test_docker_argv_ends_options_before_every_positional() -> None:
    cfg = load({"stateDir": "/srv/a:b"})
    spec = database_spec(cfg, "pw")
    argv = docker_cli.run_argv(replace(spec, mounts=(MountSpec("bind", "/srv/a:b/x", "/data"),)))
    assert argv[argv.index("--") + 1] == spec.image
    assert "type=bind,source=/srv/a:b/x,target=/data" in argv
    for build in (docker_cli.stop_argv("-x", 1), docker_cli.rm_argv("-x"), docker_cli.start_argv("-x"),
                  docker_cli.network_rm_argv("-x"),
                  docker_cli.volume_rm_argv("-x"), docker_cli.inspect_argv("container", "-x"),
                  docker_cli.network_create_argv("-x"), docker_cli.volume_create_argv("-x")):
        assert build[-2:] == ("--", "-x"), build
    with pytest.raises(ConfigError):
        docker_cli.run_argv(replace(spec, image="-v=/:/host:rw"))


@pytest.mark.parametrize(("version", "ok"), [("v1.5.0", True), ("1.5.0", True), ("v2.0.0-rc.1", True),
                                             ("1e6e0af", True), ("1.5", False), ("latest", False),
                                             ("v1", False), ("", False), ("v1.5.0\n", False)])
def test_one_release_rule(version, ok) -> None:
    assert release_version_pinned(version) is ok
    assert reference_pinned(f"ghcr.io/org/server:{version}") is (ok or version == "1.5" or version == "v1")
