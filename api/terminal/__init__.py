"""The command line's screens: geocoding, the pre-check and planning with progress bars and summaries."""
