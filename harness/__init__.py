"""Targets, the OCI pull client, the world a scenario runs in, the CLI and the pytest plugin."""
