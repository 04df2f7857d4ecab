"""The togather-safety CrossGuard policy pack (run: ``pulumi preview --policy-pack policy``).

The validators live in importable modules (``policy.rules``, ``policy.props``) so the
tests call each one with passing and failing resource properties; ``__main__.py``
only builds the pack.
"""
