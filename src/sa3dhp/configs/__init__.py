"""Built-in YAML configs (``--config NAME``): demo (the default), quick (smoke), bench (the
headline profile)."""
