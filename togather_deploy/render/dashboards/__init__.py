"""Grafana dashboards as data: one pure builder per dashboard, all on one datasource uid."""
