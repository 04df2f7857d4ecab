"""Operational libraries the CLI and providers use: health, lock, audit, notify, metrics, active colour.
"""
