"""Tensor files below the model: bounded-memory safetensors reading and writing, the checks that name every
tensor a checkpoint lacks or mis-shapes, and the CheckpointError they raise. Imports nothing else of the engine
but engine.atomic, so the model, text encoders and pipeline can read checkpoints without the model store."""
