"""The scenario suites: one module per rule family of RULES.md."""
