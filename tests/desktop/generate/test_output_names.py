"""Generated videos are named from their prompt, so a person finds them in a folder."""

from __future__ import annotations

from desktop.generate.outputs import file_stem, new_output


def test_a_generated_video_is_named_from_its_prompt(tmp_path):
    project = tmp_path / "film.istar"
    first = new_output(project, "generate", 42, "A red circle, moving to the right on blue!")
    assert first.parent == tmp_path / "film.media"
    assert first.name.startswith("a-red-circle-moving-to-the-s42-") and first.suffix == ".mp4"
    continued = new_output(project, "continue", 7, "A red circle")
    assert continued.name.startswith("a-red-circle-continue-s7-")
    assert new_output(project, "generate", 42, "same") != new_output(project, "generate", 42, "same")


def test_a_prompt_without_plain_words_falls_back_to_the_time():
    assert file_stem("¿¡ … !?") == "" and file_stem("") == ""
    assert file_stem("Café au lait") == "caf-au-lait"
    assert len(file_stem("word " * 100)) <= 48


def test_without_a_prompt_the_name_says_when(tmp_path):
    assert new_output(tmp_path / "film.istar", "generate", 1).name.startswith("gen-")
