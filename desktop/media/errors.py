"""What goes wrong with media files; every message names the file and what was found."""


class MediaReadError(ValueError):
    """A media file cannot be read as needed (moved, deleted, damaged, or of a kind that has no such content)."""


class MediaImportError(MediaReadError):
    """A file cannot be added to a project: it is not media this build can read."""
