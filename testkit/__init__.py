"""Real services for the tests: PostgreSQL, free ports, processes. No fakes."""
