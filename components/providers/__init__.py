"""Dynamic providers: the stateful steps of a release (snapshot, migrations, health gate, traffic switch...).

Each module's docstring is its contract: what check/diff/create/delete guarantee and what state they record.
"""
