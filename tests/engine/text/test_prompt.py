"""Prompt rewrites of the released scripts: the duration tag and quality phrase of video."""

from __future__ import annotations

import pytest

from engine.text import PromptError, prompt_for_video


def test_a_video_prompt_gets_the_duration_tag_and_the_quality_phrase() -> None:
    expected = "<<<t=5s>>>a fox in the snow, Close-up on big objects, emphasize scale and detail"
    assert prompt_for_video("a fox in the snow", 5) == expected
    assert prompt_for_video("a fox in the snow", 5.0) == expected
    assert prompt_for_video("a fox", 10).startswith("<<<t=10s>>>a fox,")


def test_an_image_prompt_is_kept_as_written() -> None:
    assert prompt_for_video(" a fox ", 0) == " a fox "


@pytest.mark.parametrize("seconds", [2.5, -1, True, float("nan"), float("inf"), "5"])
def test_a_duration_off_the_1_s_grid_is_refused(seconds: object) -> None:
    with pytest.raises(PromptError, match="not a whole number of seconds >= 0"):
        prompt_for_video("a fox", seconds)


def test_an_empty_prompt_is_refused_before_it_is_dressed_up() -> None:
    with pytest.raises(PromptError, match="the prompt is empty"):
        prompt_for_video(" \n", 5)
    with pytest.raises(PromptError, match="must be text, got NoneType"):
        prompt_for_video(None, 5)
