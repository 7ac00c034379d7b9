"""Export size estimate: the video bits per pixel-second an export makes at each CRF and codec, which
desktop.media.export_settings uses (BITS_PER_PIXEL_SECOND, CRF_HALVING) to estimate a file's size before exporting.

Usage (from the repository root):
    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/export_estimate.py [--seconds 4] [--clip GENERATED.mp4]

Footage: bench/export_speed.py's timeline (two generated-like videos with light grain, a still between them, a
tone), made at 640x360 and exported at 640x360 and at 1280x720 (scaled up, as generated clips fitted into a larger
frame are); and with --clip, a real generated clip (such as `istar generate --duration 4`) alone on a timeline,
exported at 1280x720. Reported per export: the video stream's bits / (pixels x seconds), and the estimate's ratio
to the real file size; per codec, the geometric mean of bits per pixel-second at CRF 20 over all exports and how
many CRF steps halve the size.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import av

from bench.export_speed import timeline
from desktop.media.export import export_video
from desktop.media.export_settings import H264, H265, ExportSettings, available_codecs, estimate_bytes, has_sound
from desktop.media.probe import probe_media
from desktop.project.model import Clip, Project, Track, new_id

SOURCE = (640, 360)
SIZES = [(640, 360), (1280, 720)]
CRFS = [14, 20, 26, 32]


def video_bits(path: Path) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return 8 * sum(packet.size for packet in container.demux(stream))


def clip_timeline(path: Path) -> Project:
    media = probe_media(path)
    project = Project(fps=round(media.fps or 16), width=media.width or 64, height=media.height or 64)
    project.media = {media.id: media}
    video = Track(new_id(), "video", "Video 1")
    video.place(Clip(new_id(), media.id, 0, project.source_frames(media)))
    project.tracks = [video, Track(new_id(), "audio", "Audio 1")]
    return project


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(map(math.log, values)) / len(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="timeline length")
    parser.add_argument("--clip", type=Path, help="a generated clip to measure as well")
    args = parser.parse_args()
    print(f"{'footage':>14} {'codec':>8} {'size':>9} {'crf':>4} {'file KB':>8} {'bits/px-s':>9} {'estimate/real':>13}")
    with tempfile.TemporaryDirectory() as folder:
        footage = [("generated-like", timeline(Path(folder), *SOURCE, args.seconds), SIZES)]
        if args.clip is not None:
            footage.append((args.clip.name[:14], clip_timeline(args.clip), SIZES[1:]))
        out = Path(folder) / "export.mp4"
        for codec in [c for c in (H264, H265) if c in available_codecs()]:
            per_crf: dict[int, list[float]] = {}
            for name, project, sizes in footage:
                seconds = project.seconds(project.duration)
                for size in sizes:
                    for crf in CRFS:
                        settings = ExportSettings(size=size, codec=codec, crf=crf)
                        export_video(project, out, settings)
                        real = out.stat().st_size
                        bpps = video_bits(out) / (size[0] * size[1] * seconds)
                        per_crf.setdefault(crf, []).append(bpps)
                        ratio = estimate_bytes(seconds, size, settings, has_sound(project)) / real
                        print(f"{name:>14} {codec:>8} {size[0]:>4}x{size[1]:<4} {crf:>4} {real / 1000:>8.0f} "
                              f"{bpps:>9.4f} {ratio:>13.2f}")
            means = {crf: geometric_mean(values) for crf, values in per_crf.items()}
            halving = (CRFS[-1] - CRFS[0]) / math.log2(means[CRFS[0]] / means[CRFS[-1]])
            print(f"{codec}: bits per pixel-second at CRF 20, geometric mean of all exports: {means[20]:.3f}; "
                  f"the size halves every {halving:.1f} CRF steps")


if __name__ == "__main__":
    main()
