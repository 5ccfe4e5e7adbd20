"""Built-in YAML configs (``--config NAME``): demo (the default), quick (smoke) and bench (the headline profile)."""
