"""Training the studio's built-in demo model: its procedural data and the checks of what it generates."""
