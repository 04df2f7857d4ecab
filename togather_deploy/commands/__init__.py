"""Commands as data: argv builders for docker, pg, nginx and pulumi, and the one runner that executes them.
"""
