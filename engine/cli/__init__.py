"""The `istar` command line: presets, plans and self-tests (main), jobs (jobs), and the model store (models)."""
