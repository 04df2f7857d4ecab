"""``togather_deploy.ops.preflight``: the checks themselves (the scripts' behaviour is in
tests/cli/test_preflight_cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from togather_deploy.errors import ConfigError
from togather_deploy.ops import preflight


def test_passphrase_from_either_variable_or_another_secrets_provider(tmp_path: Path) -> None:
    plain: dict[str, object] = {}
    preflight.check_passphrase({"PULUMI_CONFIG_PASSPHRASE": "x"}, plain, "production")
    secret_file = tmp_path / "passphrase"
    secret_file.write_text("s3cret\n")
    preflight.check_passphrase({"PULUMI_CONFIG_PASSPHRASE_FILE": str(secret_file)}, plain, "production")
    preflight.check_passphrase({}, {"secretsprovider": "awskms://alias/togather"}, "production")
    with pytest.raises(ConfigError) as info:
        preflight.check_passphrase({}, plain, "production")
    assert info.value.exit_code == 10 and "PULUMI_CONFIG_PASSPHRASE_FILE" in (info.value.fix or "")


def test_a_missing_passphrase_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        preflight.check_passphrase({"PULUMI_CONFIG_PASSPHRASE_FILE": str(tmp_path / "gone")}, {}, "p")
    assert str(tmp_path / "gone") in str(info.value)


def test_state_dir_that_does_not_exist_yet_is_fine_when_it_can_be_created(tmp_path: Path) -> None:
    preflight.check_state_dir(str(tmp_path / "a" / "b" / "state"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot be created in"):
        preflight.check_state_dir(str(blocker / "state"))


def test_pulumi_on_path() -> None:
    preflight.check_pulumi(lambda name: f"/usr/bin/{name}")
    with pytest.raises(ConfigError, match="not on PATH"):
        preflight.check_pulumi(lambda name: None)


def test_docker_info_argv_honours_the_stack_docker_host() -> None:
    assert preflight.docker_info_argv(None) == ("docker", "info", "--format", "{{.ServerVersion}}")
    assert preflight.docker_info_argv("ssh://root@host")[:3] == ("docker", "-H", "ssh://root@host")
