"""Media for the editor: probing imported files, decoding frames and sound, the composed timeline, thumbnails,
waveforms and export. Qt-free (plain threads), so all of it is testable without a window."""
