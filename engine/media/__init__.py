"""Media files the engine writes and reads: MP4 with provenance, first-frame images. No torch."""
