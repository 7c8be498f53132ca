"""The pullthrough pytest plugin (entry point `pytest11`)."""
