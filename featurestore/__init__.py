"""The Python side of the dbt feature store: its feature catalog, read, checked and
rendered into the mart's YAML and the docs (python -m featurestore)."""
