"""The reference pull-through proxy: the documented rules, done right."""
