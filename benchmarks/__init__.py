"""Benchmarks: scripts run as files (``venv/bin/python benchmarks/<name>.py``); not tests."""
