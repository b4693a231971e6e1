"""Shared fixtures live in tests/fixtures/, one module per concern (node, data, bundle)."""

pytest_plugins = ["fixtures.data", "fixtures.node", "fixtures.bundle"]
