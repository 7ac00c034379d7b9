"""The `istar` command line: presets, plans and self-tests (main), jobs (jobs), and the model store (models)."""

# What a command reports as a message and exit code 2 rather than a traceback (ConfigError, ModelStoreError and
# the records' errors are ValueErrors)
REPORTED_ERRORS: tuple[type[Exception], ...] = (ValueError, FileNotFoundError)
