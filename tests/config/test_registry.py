"""``togather:registry``: read once, password only as a secret, and only for the image's registry."""

from __future__ import annotations

import os

import pytest

from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.config.registry import image_registry
from togather_deploy.errors import ConfigError

TOKEN = "ghp_" + "t" * 36


def _cfg(registry: object, image: str = "ghcr.io/togather-foundation/server",
         secret_keys: tuple[str, ...] = ("registry",)) -> DeployConfig:
    return load_config({"image": image, "blue": {"version": "v1.0.0"}, "environment": "test",
                        "registry": registry}, project="togather-deploy", stack="dev",
                       project_dir=os.path.dirname(__file__), secret_keys=set(secret_keys))


def test_a_complete_registry_is_read() -> None:
    reg = _cfg({"server": "ghcr.io", "username": "bot", "password": TOKEN}).registry
    assert reg is not None and (reg.server, reg.username, reg.password) == ("ghcr.io", "bot", TOKEN)
    assert TOKEN not in repr(reg)
    assert _cfg(None).registry is None


def test_the_read_only_reader_knows_the_password_exists_without_its_value() -> None:
    reg = _cfg({"server": "ghcr.io", "username": "bot"}, secret_keys=("registry.password",)).registry
    assert reg is not None and reg.password is None


def test_a_plain_text_password_is_refused_without_showing_it() -> None:
    with pytest.raises(ConfigError, match="registry.password: is a secret but was stored in plain") as exc:
        _cfg({"server": "ghcr.io", "username": "bot", "password": TOKEN}, secret_keys=())
    assert TOKEN not in str(exc.value)
    assert "--secret --path togather:registry.password" in (exc.value.fix or "")


def test_a_missing_password_is_refused() -> None:
    with pytest.raises(ConfigError, match="registry.password: missing"):
        _cfg({"server": "ghcr.io", "username": "bot"})


@pytest.mark.parametrize(("registry", "message"), [
    ({"server": "docker.io", "username": "bot", "password": TOKEN}, "not the registry of image"),
    ({"server": "https://ghcr.io", "username": "bot", "password": TOKEN}, "registry.server"),
    ({"server": "ghcr.io", "username": "bot", "password": TOKEN, "email": "x"}, "registry.email: unknown"),
])
def test_bad_registry_config_names_the_key(registry: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _cfg(registry)


@pytest.mark.parametrize(("image", "host"), [
    ("ghcr.io/org/server", "ghcr.io"), ("org/server", "docker.io"),
    ("localhost:5000/server", "localhost:5000"), ("server", "docker.io")])
def test_image_registry(image: str, host: str) -> None:
    assert image_registry(image) == host


@pytest.mark.parametrize("image", ["ghcr.io/org/server:latest", "ghcr.io/org/server:v1.0.0"])
def test_image_takes_no_tag_the_version_is_typed_per_colour(image: str) -> None:
    """Item 8: the version is only ever typed as blue/green.version (an exact release)."""
    with pytest.raises(ConfigError, match="image"):
        _cfg(None, image=image)
    with pytest.raises(ConfigError, match="blue.version: .*explicit version"):
        load_config({"image": "ghcr.io/org/server", "blue": {"version": "latest"}, "environment": "test"},
                    project="togather-deploy",
                    stack="dev", project_dir=os.path.dirname(__file__))
