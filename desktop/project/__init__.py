"""The project: media, tracks and clips as plain Python objects, its edits, and its file. No Qt, no torch."""
