"""Generation in process: a request and a loaded model in, a stream of progress, previews and frames out."""

from engine.pipeline.events import ClipFrames, Finished, PassProgress, PipelineEvent, Started
from engine.pipeline.request import GenerationRequest, PipelineInputError
from engine.pipeline.run import GenerationModel, run_generation
from engine.pipeline.text import TextEncoder

__all__ = [
    "ClipFrames",
    "Finished",
    "GenerationModel",
    "GenerationRequest",
    "PassProgress",
    "PipelineEvent",
    "PipelineInputError",
    "Started",
    "TextEncoder",
    "run_generation",
]
