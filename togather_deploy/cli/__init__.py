"""Operator commands behind ``scripts/``: parse arguments, call one verb, render its result."""
