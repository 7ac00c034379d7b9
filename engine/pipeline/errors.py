"""The error a generation raises for input that does not fit the model."""


class PipelineInputError(ValueError):
    """A request does not fit the model; the message names the field and what was expected."""
