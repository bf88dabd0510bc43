"""The export loader: a shop's own CSV or Parquet exports into the raw tables
(`python -m loader MAPPING.yml`). Imports warehouse, never seeds_gen."""
