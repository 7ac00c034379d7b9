"""`istar generate`: its arguments; the work is in engine.service.generate, imported only when it runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.runtime.precision import PRECISIONS


def _generate(args: argparse.Namespace) -> int:
    from engine.service.generate import generate

    return generate(args)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="make a video (or an image) with an installed model into an MP4")
    p.add_argument("--model", required=True, help="an installed model id (see `istar models list`)")
    p.add_argument("--prompt", help="what the video should show")
    p.add_argument("--text-features", type=Path, default=None,
                   help="for models without a text encoder: a safetensors file with one [tokens, channels] tensor")
    p.add_argument("--duration", type=int, default=5, help="seconds, 0 for an image")
    p.add_argument("--aspect", default=None, help="W:H such as 16:9, or h/w as a number (default: the model's)")
    p.add_argument("--seed", type=int, default=None, help="same seed and settings, same video (default: random)")
    p.add_argument("--precision", choices=PRECISIONS, default=None, help="default: what the load plan chooses")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--image", type=Path, default=None, help="first frame: make the video from this picture")
    p.add_argument("--continue-from", type=Path, default=None,
                   help="the .bits.safetensors written beside an earlier video: continue that video")
    p.add_argument("--guidance-scale", type=float, default=None, help="override the model's guidance scale")
    p.add_argument("--tau-image", type=float, default=None, help="override the first frame's sampling temperature")
    p.add_argument("--tau-video", type=float, default=None, help="override the video clips' sampling temperature")
    p.add_argument("-o", "--output", type=Path, required=True, help="the MP4 to write")
    p.set_defaults(run=_generate)
