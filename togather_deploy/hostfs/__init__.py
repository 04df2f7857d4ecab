"""The tool's own directories on the host: safe paths and atomic writes.
"""
