"""Migrations: files, SQL splitting, lint, the golang-migrate driver and the runner.
"""
