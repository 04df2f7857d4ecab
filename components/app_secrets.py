"""``AppSecrets``: the server's JWT secret and CSRF key, shared by both colours.

Both colours must sign and verify with the same keys, or a traffic flip would log
every user out. Each is generated once with ``pulumi_random`` (kept in the
encrypted state) unless the operator set it with ``pulumi config set --secret``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi import ResourceOptions

from togather_deploy.config.model import DeployConfig


@dataclass
class AppSecretsArgs:
    config: DeployConfig
    """The validated stack config (operator-provided secrets win over generated ones)."""


class AppSecrets(pulumi.ComponentResource):
    jwt_secret: pulumi.Output[str]
    csrf_key: pulumi.Output[str]

    def __init__(self, name: str, args: AppSecretsArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("togather:deploy:AppSecrets", name, None, opts)
        child = ResourceOptions(parent=self)  # never the component's own depends_on/retain/aliases
        secrets = args.config.secrets
        self.jwt_secret = secret_or_random(f"{name}-jwt", secrets.jwt_secret, child)
        self.csrf_key = secret_or_random(f"{name}-csrf", secrets.csrf_key, child)
        self.register_outputs({"jwt_secret": self.jwt_secret, "csrf_key": self.csrf_key})


def secret_or_random(name: str, given: str | None, opts: ResourceOptions, *,
                     length: int = 48) -> pulumi.Output[str]:
    """The operator's secret if set, else a ``RandomPassword`` (alphanumeric: safe in URLs/env)."""
    if given is not None:
        return pulumi.Output.secret(given)
    pw = random.RandomPassword(name, length=length, special=False, opts=opts)
    return pulumi.Output.secret(pw.result)
