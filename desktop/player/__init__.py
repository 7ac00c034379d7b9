"""The monitor, playback with sound, and voice-over recording."""
