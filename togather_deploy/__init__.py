"""togather-deploy's library: everything below the Pulumi components.

Layers, top to bottom (enforced by import-linter, see pyproject.toml):
cli -> ops -> db -> commands -> hostfs -> render -> config -> errors.
Nothing here imports pulumi — except ``ops.automation``, which drives the engine through
``pulumi.automation`` (the CLI as a subprocess), importing it only when a verb first uses the
engine — and nothing has an import-time side effect.
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""The project directory (the one holding ``Pulumi.yaml``): the one definition of it."""
