"""Video tracks composited: each clip placed by its transform, opacity and transparency over the tracks below,
scaled with a smoothing filter, at the project's frame rate; the export shows what the monitor shows.

Expected pictures are worked out by hand from the sizes: the fit of a W x H picture into a frame is the largest
size of its shape that the frame holds, centred."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from media_samples import number_of, write_video

from desktop.media.compose import Layer, compose
from desktop.media.export import export_video
from desktop.media.probe import probe_media
from desktop.media.render import TimelineRenderer
from desktop.project.model import Clip, MediaItem, Project, Track, new_id
from desktop.project.transform import Transform

RED, GREEN, BLUE, WHITE = (200, 30, 30), (30, 200, 30), (30, 30, 200), (230, 230, 230)


def write_picture(path: Path, picture: np.ndarray) -> MediaItem:
    """A PNG of uint8 RGB or RGBA `picture`, probed for the project."""
    order = cv2.COLOR_RGBA2BGRA if picture.shape[2] == 4 else cv2.COLOR_RGB2BGR
    ok, data = cv2.imencode(".png", cv2.cvtColor(picture, order))
    assert ok
    path.write_bytes(data.tobytes())
    return probe_media(path)


def blocks(colours: list[list[tuple[int, ...]]], cell: tuple[int, int]) -> np.ndarray:
    """A picture of rows of single-colour cells, each `cell` (width, height) pixels."""
    rows = [np.concatenate([np.full((cell[1], cell[0], len(c)), c, np.uint8) for c in row], axis=1) for row in colours]
    return np.concatenate(rows, axis=0)


def project_of(width: int, height: int, *layers: tuple[MediaItem, Transform], fps: int = 16) -> Project:
    """Each (media, transform) a clip of 8 frames on its own video track, the first on the bottom track."""
    project = Project(fps=fps, width=width, height=height)
    for media, transform in layers:
        project.media[media.id] = media
        track = Track(new_id(), "video", f"Video {len(project.tracks) + 1}")
        track.place(Clip(new_id(), media.id, 0, 8, transform=transform))
        project.tracks.insert(0, track)
    return project


def render(project: Project, frame: int = 0) -> np.ndarray:
    renderer = TimelineRenderer(project)
    try:
        return renderer.frame(frame)
    finally:
        renderer.close()


def test_a_square_of_four_colours_fits_a_16_by_9_frame_between_bars(tmp_path: Path) -> None:
    square = write_picture(tmp_path / "square.png", blocks([[RED, GREEN], [BLUE, WHITE]], (32, 32)))
    frame = render(project_of(160, 90, (square, Transform())))
    # 64x64 into 160x90: 90x90, from column (160 - 90) / 2 = 35 to 125
    assert not frame[:, :35].any() and not frame[:, 125:].any()
    assert frame[:, 35:125].max(axis=2).min() >= 100  # every pixel of the square has colour
    for (y, x), colour in {(20, 55): RED, (20, 105): GREEN, (70, 55): BLUE, (70, 105): WHITE}.items():
        assert tuple(frame[y, x]) == colour


def test_fill_crops_the_sides_of_a_wide_picture_and_stretch_takes_the_frames_shape(tmp_path: Path) -> None:
    stripes = write_picture(tmp_path / "stripes.png", blocks([[RED, GREEN, BLUE, WHITE]], (32, 32)))
    filled = render(project_of(64, 64, (stripes, Transform("fill"))))
    # 128x32 filled into 64x64: scaled by 2 to 256x64, the middle 64 columns show: source columns 48..80
    assert tuple(filled[32, 8]) == GREEN and tuple(filled[32, 56]) == BLUE
    assert not np.any(np.all(filled == RED, axis=2)) and not np.any(np.all(filled == WHITE, axis=2))
    stretched = render(project_of(64, 64, (stripes, Transform("stretch"))))
    # each 32-pixel stripe becomes 16 columns of the full height
    for x, colour in {6: RED, 22: GREEN, 40: BLUE, 58: WHITE}.items():
        assert tuple(stretched[2, x]) == colour and tuple(stretched[61, x]) == colour


def test_a_custom_placement_moves_scales_crops_and_turns_the_picture(tmp_path: Path) -> None:
    halves = write_picture(tmp_path / "halves.png", blocks([[RED, BLUE]], (16, 32)))  # 32x32: red | blue
    moved = render(project_of(128, 64, (halves, Transform("custom", x=0.25, y=0.5, scale=0.5))))
    # fit is 64x64, half of it 32x32, centred at (32, 32): columns and rows 16..48
    assert not moved[:, :16].any() and not moved[:, 48:].any() and not moved[:16].any() and not moved[48:].any()
    assert tuple(moved[32, 20]) == RED and tuple(moved[32, 44]) == BLUE
    cropped = render(project_of(64, 64, (halves, Transform(crop_left=0.5))))
    # the right half, 16x32, fitted into 64x64: 32x64 in columns 16..48, all blue
    assert not cropped[:, :16].any() and not cropped[:, 48:].any()
    assert np.all(cropped[:, 18:46] == BLUE)
    wide = write_picture(tmp_path / "wide.png", blocks([[RED, BLUE]], (32, 32)))  # 64x32: red | blue
    turned = render(project_of(64, 64, (wide, Transform("custom", rotation=90))))
    # fit is 64x32; turned a quarter clockwise it stands 32 wide and 64 high, its left (red) end at the top
    assert not turned[:, :15].any() and not turned[:, 49:].any()
    assert tuple(turned[10, 32]) == RED and tuple(turned[54, 32]) == BLUE


def test_a_picture_zoomed_far_past_the_frame_shows_the_part_around_its_centre(tmp_path: Path) -> None:
    square = write_picture(tmp_path / "square.png", blocks([[RED, GREEN], [BLUE, WHITE]], (32, 32)))
    frame = render(project_of(64, 64, (square, Transform("custom", scale=10))))
    # 640x640 centred on the frame: its middle 6.4 source pixels, the four colours meeting at the frame's centre
    assert tuple(frame[16, 16]) == RED and tuple(frame[16, 48]) == GREEN
    assert tuple(frame[48, 16]) == BLUE and tuple(frame[48, 48]) == WHITE


def test_opacity_blends_with_the_track_below_and_transparency_shows_it(tmp_path: Path) -> None:
    below = write_picture(tmp_path / "below.png", blocks([[(200, 100, 0)]], (32, 32)))
    above = write_picture(tmp_path / "above.png", blocks([[(0, 100, 220)]], (32, 32)))
    frame = render(project_of(32, 32, (below, Transform()), (above, Transform(opacity=0.5))))
    assert np.abs(frame.astype(int) - (100, 100, 110)).max() <= 1
    # a title: opaque white on the left, half-transparent red in the middle, clear on the right
    title = np.zeros((32, 48, 4), np.uint8)
    title[:, :16] = (255, 255, 255, 255)
    title[:, 16:32] = (255, 0, 0, 128)
    titled = write_picture(tmp_path / "title.png", title)
    frame = render(project_of(48, 32, (below, Transform("stretch")), (titled, Transform())))
    assert tuple(frame[16, 6]) == (255, 255, 255)
    assert np.abs(frame[16, 24].astype(int) - (200 * 127 / 255 + 128, 100 * 127 / 255, 0)).max() <= 1.5
    assert tuple(frame[16, 40]) == (200, 100, 0)
    faded = render(project_of(48, 32, (below, Transform("stretch")), (titled, Transform(opacity=0.5))))
    assert np.abs(faded[16, 6].astype(int) - (228, 178, 128)).max() <= 1  # (white + below) / 2


def test_pictures_are_smoothed_when_scaled_never_blocky(tmp_path: Path) -> None:
    checks = np.indices((64, 64)).sum(axis=0) % 2 * 255
    fine = write_picture(tmp_path / "checks.png", np.repeat(checks[..., None], 3, axis=2).astype(np.uint8))
    shrunk = render(project_of(32, 32, (fine, Transform())))
    assert np.abs(shrunk.astype(int) - 127.5).max() <= 1  # each 2x2 of black and white averages to grey
    two = write_picture(tmp_path / "two.png", blocks([[(0, 0, 0), (255, 255, 255)]], (1, 2)))  # 2x2
    grown = render(project_of(64, 64, (two, Transform())))
    levels = set(grown[32, :, 0].tolist())
    assert len(levels) > 8  # a ramp from black to white, not two blocks


def test_a_layer_hidden_by_an_opaque_full_frame_one_is_not_even_decoded() -> None:
    asked: list[str] = []

    def picture(name: str, colour: tuple[int, int, int]):
        def make(size: tuple[int, int]) -> np.ndarray:
            asked.append(name)
            return np.full((size[1], size[0], 3), colour, np.uint8)
        return make

    layers = [Layer((32, 18), Transform(), picture("hidden", RED)), Layer((16, 9), Transform(), picture("top", BLUE))]
    frame = compose(layers, (64, 36))
    assert asked == ["top"] and np.all(frame == BLUE)
    layers[1] = Layer((16, 9), Transform(opacity=0.99), picture("top", BLUE))
    asked.clear()
    compose(layers, (64, 36))
    assert sorted(asked) == ["hidden", "top"]


@pytest.mark.parametrize(("clip_fps", "project_fps"), [(16, 30), (16, 24), (16, 32), (30, 16)])
def test_a_clip_at_another_rate_plays_at_its_own_speed(tmp_path: Path, clip_fps: int, project_fps: int) -> None:
    media = probe_media(write_video(tmp_path / "clip.mp4", range(2 * clip_fps), fps=clip_fps))
    project = Project(fps=project_fps, width=64, height=64)
    project.media[media.id] = media
    project.tracks = [Track(new_id(), "video", "Video 1", clips=[Clip(new_id(), media.id, 0, 2 * project_fps)])]
    renderer = TimelineRenderer(project)
    shown = [number_of(renderer.frame(k)) for k in range(2 * project_fps)]
    renderer.close()
    # timeline frame k is at k / project_fps seconds: the clip's frame nearest to it, the later one exactly halfway
    expected = [min(2 * clip_fps - 1, math.floor(Fraction(k * clip_fps, project_fps) + Fraction(1, 2)))
                for k in range(2 * project_fps)]
    assert shown == expected


def test_the_export_shows_the_transformed_frame_the_monitor_renders(tmp_path: Path, numbers: MediaItem) -> None:
    backdrop = write_picture(tmp_path / "backdrop.png", blocks([[RED, GREEN], [BLUE, WHITE]], (40, 20)))
    project = project_of(96, 64, (backdrop, Transform("fill")),
                         (numbers, Transform("custom", x=0.6, y=0.45, scale=0.7, rotation=12, crop_top=0.1,
                                             opacity=0.8)))
    export_video(project, tmp_path / "out.mp4")
    with av.open(str(tmp_path / "out.mp4")) as container:
        exported = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    renderer = TimelineRenderer(project)
    for index in (0, 5):
        rendered = renderer.frame(index).astype(int)
        assert np.abs(exported[index] - rendered).mean() < 4
    renderer.close()
