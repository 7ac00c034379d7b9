"""The toy world the studio's demo model is trained on, and a detector that reads its videos back.

Training uses seeds in [0, 10**8); evaluation uses seeds from 10**9 up (eval_prompts). See world.py.
"""

from engine.train.toyworld.captions import caption_for, tokenize, vocabulary
from engine.train.toyworld.detect import Reading, boundary_consistency, read_video
from engine.train.toyworld.spec import CLIP_FRAMES, FPS, MOTIONS, SHAPES, SIZES, ClipSpec, ObjectSpec
from engine.train.toyworld.world import (
    EVAL_SEED_START,
    TRAIN_SEEDS,
    Batch,
    Video,
    eval_prompts,
    render,
    render_clips,
    sample_batch,
    sample_video,
)

__all__ = [
    "CLIP_FRAMES",
    "EVAL_SEED_START",
    "FPS",
    "MOTIONS",
    "SHAPES",
    "SIZES",
    "TRAIN_SEEDS",
    "Batch",
    "ClipSpec",
    "ObjectSpec",
    "Reading",
    "Video",
    "boundary_consistency",
    "caption_for",
    "eval_prompts",
    "read_video",
    "render",
    "render_clips",
    "sample_batch",
    "sample_video",
    "tokenize",
    "vocabulary",
]
