"""Long toyworld videos: does the object last, and does a long storyboard follow its prompts, clip after clip?

The shipped toyworld weights saw videos of two 1 s clips; every clip past the second is made in the second's RoPE
slot (engine.schedule.trained_slot). On held-out prompts (evaluate.eval_prompts, one object), each video made
through the pipeline as the studio makes it:
- one prompt, --seconds long: whether the object's colour and shape read from the last clip equal those read from
  the first video clip (goal: 90% of videos; also the colour alone), and the share of frames in which a blob of
  the prompt's colour is found (goal: 95%), over all prompts and over those whose object can stay in view (a
  growing or shrinking object fills the frame or vanishes within 30 s, as it should);
- --storyboard: the same scene with a prompt per clip whose direction changes every clip (a random direction,
  then its opposite, so the object stays in frame): the share of clips whose motion reads as their prompt's
  (goal: 80%);
- seconds per clip: clip 30's over clip 3's (each the median over the videos; goal: within 10%).
--sheet saves the first --sheet-rows videos, a frame every second, as a contact sheet PNG.

    python bench/toyworld_long.py --n 100 --seconds 30 --sheet docs/images/toyworld_30s.png
    python bench/toyworld_long.py --n 100 --seconds 30 --storyboard
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from engine.loader import load_model
from engine.media.image import write_png
from engine.pipeline import ClipFrames, GenerationRequest, run_generation
from engine.train.toyworld.captions import caption_for
from engine.train.toyworld.detect import find_blobs, read_video
from engine.train.toyworld.sheet import contact_sheet
from engine.train.toyworld.spec import CLIP_FRAMES, DIRECTIONS, ClipSpec
from engine.train.toyworld.world import eval_prompts, eval_seed, with_motions

OPPOSITE = {"left": "right", "up": "down", "up-left": "down-right", "up-right": "down-left"}
OPPOSITE |= {b: a for a, b in OPPOSITE.items()}


def storyboard(spec: ClipSpec, clips: int, seed: int) -> tuple[list[str], list[str]]:
    """A prompt per clip for `spec`'s scene, the direction changing every clip; and the directions."""
    rng = np.random.default_rng(seed)
    directions: list[str] = []
    for k in range(clips):
        if k % 2:
            directions.append(OPPOSITE[directions[-1]])
        else:
            directions.append(str(rng.choice([d for d in DIRECTIONS if directions[-1:] != [d]])))
    return [caption_for(with_motions(spec, [d]), rng) for d in directions], directions


def generate(model, prompts: list[str], seconds: int, seed: int) -> tuple[np.ndarray, list[float]]:
    """The video and the seconds each clip took to arrive (sampling and decoding)."""
    request = GenerationRequest(prompts=tuple(prompts), seconds=seconds, aspect="1:1", seed=seed)
    clips, times, last = [], [], time.perf_counter()
    for event in run_generation(model, request):
        if isinstance(event, ClipFrames):
            clips.append(event.frames)
            now = time.perf_counter()
            times.append(now - last)
            last = now
    return np.concatenate(clips), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="held-out prompts")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0, help="evaluation set")
    parser.add_argument("--storyboard", action="store_true", help="a prompt per clip, the direction changing")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sheet", type=Path, default=None)
    parser.add_argument("--sheet-rows", type=int, default=6)
    parser.add_argument("--json", type=Path, default=None, help="write every video's readings here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("command: python " + shlex.join(sys.argv), flush=True)
    model = load_model("toyworld", "cpu", seconds=args.seconds, aspect="1:1", progress=lambda _: None)
    kept = kept_colour = followed = clips_total = 0
    frames_found = {True: [0, 0], False: [0, 0]}  # by whether the object keeps its size: found, frames
    clip_times: dict[int, list[float]] = {3: [], 30: []}
    rows, labels, records = [], [], []
    for index, (caption, spec) in enumerate(eval_prompts(args.n, args.seed, objects=1)):
        seed = eval_seed(args.seed, index)
        truth = spec.objects[0]
        if args.storyboard:
            prompts, directions = storyboard(spec, args.seconds, seed)
        else:
            prompts, directions = [caption], []
        video, times = generate(model, prompts, args.seconds, seed)
        readings = read_video(video, CLIP_FRAMES)
        for clip in clip_times:
            if clip <= len(times):
                clip_times[clip].append(times[clip - 1])
        first, last = readings[1], readings[-1]
        same = first.colour is not None and (first.colour, first.shape) == (last.colour, last.shape)
        found = sum(any(b.colour == truth.colour for b in find_blobs(frame)) for frame in video)
        kept += same
        kept_colour += first.colour is not None and first.colour == last.colour
        sized = frames_found[truth.motion not in ("growing", "shrinking")]
        sized[0] += found
        sized[1] += len(video)
        hits = [r.motion == d for r, d in zip(readings[1:], directions, strict=True)] if directions else []
        followed += sum(hits)
        clips_total += len(hits)
        read = [(r.colour, r.shape, r.motion) for r in readings]
        records.append({"index": index, "caption": caption, "seed": seed, "read": read, "directions": directions,
                        "kept": same, "frames_found": found, "frames": len(video), "clip_seconds": times})
        print(f"{index:3d} kept {same!s:5}  found {found / len(video):.3f}"
              + (f"  followed {sum(hits)}/{len(hits)}" if directions else "")
              + f"  first {first.colour} {first.shape}, last {last.colour} {last.shape}", flush=True)
        if index < args.sheet_rows:
            rows.append(video[:: CLIP_FRAMES])
            labels.append(("storyboard: " if directions else "") + caption)
    n = args.n
    print(f"{n} held-out prompts, {args.seconds} s each" + (" (storyboards)" if args.storyboard else ""))
    print(f"  colour and shape of the last clip as of the first: {kept / n:.3f} of videos (goal 0.9); colour alone "
          f"{kept_colour / n:.3f}")
    steady, changing = frames_found[True], frames_found[False]
    every = (steady[0] + changing[0]) / (steady[1] + changing[1])
    print(f"  frames with the object found: {every:.3f} of all; {steady[0] / max(steady[1], 1):.3f} where it does not "
          "grow or shrink (goal 0.95)")
    if args.storyboard:
        print(f"  clips whose motion follows their prompt: {followed / clips_total:.3f} (goal 0.8)")
    if clip_times[30]:
        three, thirty = statistics.median(clip_times[3]), statistics.median(clip_times[30])
        print(f"  seconds per clip (median): clip 3 {three:.3f}, clip 30 {thirty:.3f}, ratio {thirty / three:.3f}")
    if args.sheet:
        write_png(args.sheet, contact_sheet(rows, labels, columns=args.seconds + 1, scale=2))
        print(f"  contact sheet: {args.sheet}")
    if args.json:
        args.json.write_text(json.dumps(records))


if __name__ == "__main__":
    main()
