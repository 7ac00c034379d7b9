"""Probing: what an imported file is, by its content, and clear refusals of what cannot be used."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import pytest
from blank_png import write_blank_png
from engine_records import generation
from media_samples import tone, write_video

from desktop.media import probe
from desktop.media.errors import MediaImportError
from desktop.media.probe import probe_media
from desktop.project.model import MediaItem


def test_a_video_with_sound(numbers: MediaItem, media_dir: Path) -> None:
    assert numbers.path == media_dir / "numbers.mp4" and len(numbers.id) == 12
    assert (numbers.kind, numbers.duration, numbers.fps) == ("video", 2.0, 16.0)
    assert (numbers.width, numbers.height, numbers.has_audio, numbers.provenance) == (64, 64, True, None)


def test_a_silent_video_an_audio_file_and_a_still(wide: MediaItem, wav: MediaItem, still: MediaItem) -> None:
    assert (wide.kind, wide.duration, wide.width, wide.height, wide.has_audio) == ("video", 1.0, 64, 32, False)
    assert (wav.kind, wav.duration, wav.has_audio, wav.width, wav.fps) == ("audio", 1.0, True, None, None)
    assert (still.kind, still.duration, still.width, still.height, still.fps) == ("image", 0.0, 48, 32, None)


def test_each_new_item_gets_its_own_id(media_dir: Path) -> None:
    assert probe_media(media_dir / "still.png").id != probe_media(media_dir / "still.png").id


def test_the_kind_comes_from_the_content_not_the_extension(media_dir: Path, tmp_path: Path) -> None:
    shutil.copy(media_dir / "still.png", tmp_path / "photo.mp4")
    shutil.copy(media_dir / "tone.wav", tmp_path / "song.png")
    assert probe_media(tmp_path / "photo.mp4").kind == "image"
    assert probe_media(tmp_path / "song.png").kind == "audio"


def test_a_generated_videos_provenance_is_read_from_its_comment_tag(tmp_path: Path) -> None:
    record = generation(["a red ball"], seconds=2, kind="generate", seed=7)
    path = write_video(tmp_path / "gen.mp4", range(4), metadata={"comment": json.dumps(record)})
    probed = probe_media(path)
    assert probed.provenance == record and probed.generation.settings.seed == 7
    assert probed.generation.prompts == ("a red ball",)
    not_ours = write_video(tmp_path / "other.mp4", range(4), metadata={"comment": '{"seed": 7, "prompt": "x"}'})
    assert probe_media(not_ours).provenance is None, "JSON of another app is not a generation record"
    other = write_video(tmp_path / "phone.mp4", range(4), metadata={"comment": "holiday 2024"})
    assert probe_media(other).provenance is None


@pytest.mark.parametrize("comment", ["[" * 100_000, '{"model": "toyworld", "settings": {"seed": NaN}}'])
def test_a_video_whose_comment_is_nested_too_deep_or_holds_nan_imports_without_provenance(tmp_path: Path,
                                                                                        comment: str) -> None:
    path = write_video(tmp_path / "hostile.mp4", range(4), metadata={"comment": comment})
    probed = probe_media(path)
    assert probed.provenance is None and probed.generation is None and probed.width == 64


def test_a_text_file_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("shopping: milk, eggs\n")
    with pytest.raises(MediaImportError, match=r"^notes\.txt is not a video, audio or image file this build can read"):
        probe_media(tmp_path / "notes.txt")


def test_a_truncated_mp4_is_refused_as_undecodable(media_dir: Path, tmp_path: Path) -> None:
    data = (media_dir / "numbers.mp4").read_bytes()
    (tmp_path / "x.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaImportError, match=r"^x\.mp4 has no decodable video or audio stream \(moov atom not found"):
        probe_media(tmp_path / "x.mp4")


def test_an_mp4_whose_stream_data_is_garbage_is_refused(media_dir: Path, tmp_path: Path) -> None:
    path = write_video(tmp_path / "x.mp4", range(8), sound=tone(0.5, 440, 0.3))
    data = bytearray(path.read_bytes())
    box = data.index(b"mdat") - 4
    size = int.from_bytes(data[box : box + 4], "big")
    data[box + 8 : box + size] = bytes(size - 8)  # the index survives, the frames and sound do not
    path.write_bytes(bytes(data))
    with pytest.raises(MediaImportError, match=r"^x\.mp4 has no decodable video or audio stream"):
        probe_media(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MediaImportError, match=r"^gone\.mp4 cannot be read: No such file"):
        probe_media(tmp_path / "gone.mp4")


def test_a_20000_pixel_square_picture_is_refused_by_its_size_without_being_decoded(tmp_path: Path, monkeypatch) -> None:
    path = write_blank_png(tmp_path / "huge.png", 20_000, 20_000)  # 1.2 GB as RGB, in 50 KB

    def decode(*args, **kwargs):
        raise AssertionError("the picture was decoded")

    monkeypatch.setattr(probe, "read_rgb", decode)
    monkeypatch.setattr(av, "open", decode)  # FFmpeg decodes a picture to open it
    with pytest.raises(MediaImportError) as refused:
        probe_media(path)
    assert str(refused.value) == (
        "huge.png is 20000x20000 pixels (400 megapixels), over the limit of 268 megapixels (16384x16384) for a "
        "picture: scale it down to import it"
    )


def test_a_picture_wider_than_the_largest_frame_within_the_picture_limit_imports_with_its_size(tmp_path: Path) -> None:
    probed = probe_media(write_blank_png(tmp_path / "panorama.png", 20_000, 400))
    assert (probed.kind, probed.width, probed.height) == ("image", 20_000, 400)
