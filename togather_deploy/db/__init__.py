"""The database side: waiting for PostgreSQL, migrations (golang-migrate compatible) and snapshots.
"""
