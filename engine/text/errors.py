"""The errors of the text encoders: a model folder they cannot use, a prompt they cannot encode."""


class TextEncoderError(ValueError):
    """A text encoder folder is missing, incomplete, unsafe or does not fit the model; the message names the file."""


class PromptError(ValueError):
    """A prompt that cannot be encoded (empty, or asked for an impossible duration); the message says why."""
