"""Text encoders: prompts -> the [tokens, channels] features the transformer's text prefix is built from."""

from engine.text.errors import PromptError, TextEncoderError
from engine.text.prompt import prompt_for_video
from engine.text.t5 import MAX_TOKENS, T5TextEncoder

__all__ = [
    "MAX_TOKENS",
    "PromptError",
    "T5TextEncoder",
    "TextEncoderError",
    "prompt_for_video",
]
