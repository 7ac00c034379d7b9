"""The error every bad checkpoint raises: its message names the file and what was expected."""


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, truncated, unsafe or does not fit the model config."""
