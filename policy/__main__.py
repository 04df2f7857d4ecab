"""Entry point Pulumi runs for ``pulumi preview --policy-pack policy``: builds the pack.

Runs from this directory with the project's venv (PulumiPolicy.yaml), so the
project root is put on ``sys.path`` to import ``policy.rules`` exactly as the tests do.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.props import install_secret_markers  # noqa: E402
from policy.rules import policies  # noqa: E402

PACK_NAME = "togather-safety"

if __name__ == "__main__":
    install_secret_markers()
    PolicyPack(name=PACK_NAME, policies=list(policies()), enforcement_level=EnforcementLevel.MANDATORY)
