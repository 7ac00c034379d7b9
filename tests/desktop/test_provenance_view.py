"""What made a media file reads as sentences, with every prompt whole; the raw record follows."""

from __future__ import annotations

from engine_records import generation

from desktop.provenance_view import provenance_text
from engine.api.records import ExportedClip, GenerationRecord

LONG = "a red circle rolls slowly to the right across a blue floor while a yellow square waits in the far corner"


def test_a_generation_reads_as_its_request_with_each_clip_prompt_whole():
    text = provenance_text(generation(["a red circle", LONG, LONG], seconds=15, seed=99))
    lines = text.splitlines()
    assert lines[0] == "15 s of video, a storyboard, one prompt per clip"
    assert "Model: toyworld at fp32 (preset toyworld)" in lines and "Seed: 99" in lines
    assert lines[lines.index("Prompts, clip by clip:") + 1:][:3] == ["  1. a red circle", f"  2. {LONG}",
                                                                     f"  3. {LONG}"]
    assert text.index("The record as stored:") > text.index(LONG)
    assert '"seed": 99' in text.split("The record as stored:")[1]


def test_a_continuation_says_what_it_plays_on_from():
    body = generation([LONG], kind="continue")
    body["inputs"] |= {"continued_from_sha256": "ab" * 32, "continued_from_clip": 3}
    text = provenance_text(body)
    assert "continues another video" in text.splitlines()[0]
    assert f"Prompt: {LONG}" in text and "Continued from: file abababababab…, after its clip 3" in text


def test_an_exported_timeline_lists_its_generated_clips_where_they_sit():
    record = GenerationRecord.from_json(generation(["a red circle"], kind="generate"))
    clips = [ExportedClip("Video 1", "one.mp4", 0.0, 3.0, 0.0, record).to_json(),
             ExportedClip("Video 2", "two.mp4", 2.5, 6.0, 0.0, record).to_json()]
    lines = provenance_text(clips).splitlines()
    assert lines[0] == "An exported timeline with 2 generated clip(s):"
    assert "0.00 s to 3.00 s on Video 1: one.mp4" in lines and "2.50 s to 6.00 s on Video 2: two.mp4" in lines
    assert "    Prompt: a red circle" in lines


def test_a_record_of_another_app_is_shown_as_stored():
    text = provenance_text({"tool": "other", "steps": 30})
    assert text.startswith("This record is not one the studio can read") and '"steps": 30' in text
