"""Where the built-in toyworld model keeps its files, inside its model folder (written by engine.train.export)."""

MODEL_ID = "toyworld"
TRANSFORMER_FILE = "transformer/model.safetensors"
VAE_FILE = "vae/toyworld_vae.safetensors"
PREVIEW_FILE = "vae/preview.safetensors"
