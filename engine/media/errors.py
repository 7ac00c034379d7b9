class MediaError(ValueError):
    """A media file cannot be read or written as asked; the message names the file and what was expected."""
