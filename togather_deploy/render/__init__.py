"""Pure renderers: config in, file text or container specs out.

nginx, containers, Prometheus, Alertmanager, Grafana: nothing here runs a process or touches a file.
"""
