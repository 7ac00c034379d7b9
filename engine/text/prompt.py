"""The rewrites the released InfinityStar scripts apply to a prompt before it is encoded.

The model was trained with the clip's duration prepended to every video caption as `<<<t=5s>>>`
(append_duration2caption=1), so the tag is how it learns how long a video to make; a video prompt without
it is out of distribution. The released video scripts also append a fixed quality phrase to every prompt.
"""

from __future__ import annotations

import math

from engine.text.errors import PromptError

VIDEO_SUFFIX = ", Close-up on big objects, emphasize scale and detail"


def check_prompt(prompt: str, what: str = "the prompt") -> None:
    if not isinstance(prompt, str):
        raise PromptError(f"{what} must be text, got {type(prompt).__name__}")
    if not prompt.strip():
        raise PromptError(f"{what} is empty; describe what the video should show")


def _whole_seconds(seconds: object) -> bool:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return False
    return math.isfinite(seconds) and seconds == int(seconds) and seconds >= 0


def _duration_tag(seconds: int) -> str:
    return f"<<<t={seconds}s>>>"


def prompt_for_video(prompt: str, seconds: int | float) -> str:
    """The prompt as the released video scripts encode it for a `seconds`-long video (on the 1 s grid of the
    schedules). 0 s means an image: image captions were trained without a tag, so the prompt is kept as written."""
    check_prompt(prompt)
    if not _whole_seconds(seconds):
        raise PromptError(f"duration {seconds!r} s is not a whole number of seconds >= 0 (0 means an image)")
    if seconds == 0:
        return prompt
    return f"{_duration_tag(int(seconds))}{prompt}{VIDEO_SUFFIX}"
