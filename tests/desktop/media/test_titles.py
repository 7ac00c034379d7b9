"""Titles as they are seen: white text over the clip below, inside the box its size and position give and nowhere
else; edges blended with what lies below; the same share of the frame at any size; a long line wrapped inside the
frame; drawn once per look and size; exported as previewed; rendered by `istar-studio --render` without a display."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from desktop.media.export import export_video
from desktop.media.export_settings import ExportSettings
from desktop.media.frames import FrameCache
from desktop.media.render import TimelineRenderer
from desktop.media.titles import cached_title, render_title, text_block
from desktop.project.commands import add_title
from desktop.project.file import save_project
from desktop.project.model import Clip, MediaItem, Project, new_id
from desktop.project.title import Title
from engine.media.image import write_png

ROOT = Path(__file__).resolve().parents[3]
BELOW = (200, 40, 40)
WHITE = Title(text="HI", size=0.25, outline_width=0.0)
LONG = Title(text="A title line far too long to fit across the frame in one go", size=0.1, outline_width=0.0)


@pytest.fixture(autouse=True)
def fonts(qapp):
    """Titles are drawn with Qt's fonts, which need the QGuiApplication pytest-qt makes."""


def red_project(tmp_path: Path, width: int, height: int, title: Title = WHITE) -> Project:
    """A `width` x `height` project: a red picture filling the frame on Video 1, a title over it on a new top
    track, both from frame 0."""
    path = tmp_path / f"red-{width}x{height}.png"
    write_png(path, np.full((height, width, 3), BELOW, np.uint8))
    project = Project.empty(fps=16, width=width, height=height)
    picture = MediaItem(new_id(), path, "image", 0.0, width=width, height=height)
    project.media[picture.id] = picture
    project.tracks[0].place(Clip(new_id(), picture.id, 0, 48))
    add_title(project, 0, project.tracks[0].id, title).do(project)  # Video 1 is taken: on a new top track
    return project


def frames_with_and_without(project: Project) -> tuple[np.ndarray, np.ndarray]:
    renderer = TimelineRenderer(project)
    with_title = renderer.frame(10)
    project.tracks[0].muted = True  # the title's track
    without = renderer.frame(10)
    project.tracks[0].muted = False
    return with_title, without


def changed_box(with_title: np.ndarray, without: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(np.any(with_title != without, axis=2))
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


def test_a_title_puts_white_text_over_the_clip_below_inside_its_box_and_nowhere_else(tmp_path: Path) -> None:
    project = red_project(tmp_path, 320, 180)
    assert [t.name for t in project.tracks[:2]] == ["Video 2", "Video 1"]
    with_title, without = frames_with_and_without(project)
    assert (without == BELOW).all()
    # the text's em is 0.25 x 180 = 45 px; its block (one line: ascent + descent, about 1.2 em) is centred on the
    # lower third's centre (160, 144); "HI" in bold is under 2 em wide
    left, top, right, bottom = changed_box(with_title, without)
    assert 160 - 45 <= left < right <= 160 + 45
    assert 144 - 0.65 * 45 <= top < bottom <= 144 + 0.65 * 45
    assert bottom - top > 0.6 * 45  # capitals: most of an em high
    inside = with_title[top:bottom, left:right]
    assert (inside == 255).all(axis=2).sum() > 0.3 * inside.shape[0] * inside.shape[1]  # solid white strokes
    outside = np.ones(with_title.shape[:2], bool)
    outside[top:bottom, left:right] = False
    assert (with_title[outside] == BELOW).all()


def test_a_title_edge_blends_with_what_lies_below(tmp_path: Path) -> None:
    with_title, without = frames_with_and_without(red_project(tmp_path, 320, 180))
    pixels = with_title.reshape(-1, 3).astype(float)
    edge = pixels[(pixels[:, 1] > BELOW[1] + 20) & (pixels[:, 1] < 255 - 20)]
    assert len(edge) > 20  # antialiased edge pixels, part text and part picture
    # each is white laid over red at one coverage: the same share of the way from red to white in every channel
    shares = (edge - BELOW) / (255 - np.array(BELOW, float))
    assert np.abs(shares - shares[:, 1:2]).max() < 0.03


def test_a_title_covers_the_same_share_of_the_frame_at_1080p_and_720p(tmp_path: Path) -> None:
    boxes = {}
    for width, height in ((1920, 1080), (1280, 720)):
        left, top, right, bottom = changed_box(*frames_with_and_without(red_project(tmp_path, width, height)))
        boxes[height] = np.array([left / width, top / height, right / width, bottom / height])
    assert np.abs(boxes[1080] - boxes[720]).max() < 0.004  # under 3 px at 720p


def inked(picture: np.ndarray) -> tuple[float, float, float, float]:
    """The box around the drawn pixels of a title's picture, as shares of its width and height."""
    ys, xs = np.nonzero(picture[..., 3])
    height, width = picture.shape[:2]
    return xs.min() / width, ys.min() / height, (xs.max() + 1) / width, (ys.max() + 1) / height


def test_a_long_line_wraps_inside_the_title_safe_area_at_any_size() -> None:
    left, top, right, bottom = inked(render_title(LONG, (640, 360)))
    # on one line it would be some 3 frames wide: it wraps onto lines of at most 80 % of the width, centred
    assert 0.1 <= left < right <= 0.9 and right - left > 0.6
    assert bottom - top > 3 * LONG.size  # four lines or so, each an em and a bit
    # the same lines at export size and at a quarter-size preview
    assert np.abs(np.subtract(inked(render_title(LONG, (1920, 1080))), (left, top, right, bottom))).max() < 0.01
    assert np.abs(np.subtract(inked(render_title(LONG, (480, 270))), (left, top, right, bottom))).max() < 0.01


def test_a_narrower_wrap_width_makes_more_lines_and_a_new_line_still_breaks() -> None:
    wide, narrow = (inked(render_title(replace(LONG, wrap_width=share), (640, 360))) for share in (1.0, 0.4))
    assert narrow[2] - narrow[0] <= 0.4 and wide[2] - wide[0] > 0.8
    assert narrow[3] - narrow[1] > 1.5 * (wide[3] - wide[1])
    short = inked(render_title(replace(LONG, text="Two\nlines"), (640, 360)))
    one = inked(render_title(replace(LONG, text="Two lines"), (640, 360)))
    assert short[2] - short[0] < 0.2 and short[3] - short[1] > 1.8 * (one[3] - one[1])
    # a word wider than the wrap width alone breaks inside: no letter leaves the frame
    word = inked(render_title(replace(LONG, text="W" * 40), (640, 360)))
    assert 0.1 <= word[0] < word[2] <= 0.9


def test_the_picture_is_drawn_at_the_size_asked_for_not_enlarged() -> None:
    small, large = render_title(WHITE, (320, 180)), render_title(WHITE, (1920, 1080))
    assert small.shape == (180, 320, 4) and large.shape == (1080, 1920, 4)
    # sharp at full size: an edge goes from clear to solid within a few pixels, not the six an enlargement would blur
    row = large[540, :, 3].astype(int)
    rising = np.nonzero((row > 10) & (row < 245))[0]
    assert 0 < len(rising) < 16
    assert (large[..., :3] <= large[..., 3:]).all()  # premultiplied


def test_a_title_is_drawn_once_per_look_and_size() -> None:
    cache = FrameCache()
    first = cached_title(cache, WHITE, (320, 180))
    assert cached_title(cache, WHITE, (320, 180)) is first
    assert cached_title(cache, WHITE, (640, 360)) is not first
    edited = cached_title(cache, replace(WHITE, colour="#ffff00"), (320, 180))
    assert edited is not first and edited[..., 2].max() == 0 and edited[..., 0].max() == 255


def test_outline_and_box_draw_around_the_text(tmp_path: Path) -> None:
    outlined = render_title(replace(WHITE, outline_width=0.01), (320, 180))
    assert ((outlined[..., 3] == 255) & (outlined[..., 0] == 0)).any()  # black outline pixels
    boxed = render_title(replace(WHITE, box=True, box_opacity=0.5), (320, 180))
    assert (boxed[..., 3] > 0).sum() > (outlined[..., 3] > 0).sum()
    assert set(np.unique(boxed[..., 3])) >= {0, 128, 255}  # clear around, half through the box, solid letters


def test_the_exported_frame_is_the_rendered_frame(tmp_path: Path) -> None:
    project = red_project(tmp_path, 320, 180, replace(WHITE, outline_width=0.005))
    rendered = TimelineRenderer(project).frame(10)
    out = tmp_path / "title.mp4"
    export_video(project, out, ExportSettings(crf=12))
    with av.open(str(out)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 48
    difference = np.abs(decoded[10].astype(int) - rendered.astype(int))
    assert difference.mean() < 2.0  # codec tolerance: 4:2:0 colour at the red/white edges
    left, top, right, bottom = changed_box(*frames_with_and_without(project))
    assert difference[top:bottom, left:right].mean() < 12


def test_render_cli_renders_a_title_without_a_display(tmp_path: Path) -> None:
    project = Project.empty(fps=16, width=160, height=96)
    add_title(project, 0, None, replace(WHITE, text="Render\nme")).do(project)
    path = tmp_path / "titled.istar"
    save_project(project, path)
    out = tmp_path / "titled.mp4"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-c", "import sys; from desktop.app import main; sys.exit(main())",
                             "--render", str(path), "-o", str(out)], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 48
    assert frames[5].max() > 200 and np.median(frames[5]) < 20  # white text on black


def test_the_text_block_the_monitor_outlines_holds_the_drawn_text(tmp_path: Path) -> None:
    project = red_project(tmp_path, 640, 360)
    left, top, right, bottom = changed_box(*frames_with_and_without(project))
    width, height = text_block(WHITE, (640, 360))
    # centred on the lower third's centre (320, 288), a little larger than the inked pixels (the font's side bearings
    # and descent), never smaller
    assert 320 - width * 640 / 2 <= left and right <= 320 + width * 640 / 2
    assert 288 - height * 360 / 2 <= top and bottom <= 288 + height * 360 / 2 + 1
    assert width * 640 < 1.5 * (right - left) and height * 360 < 1.6 * (bottom - top)
