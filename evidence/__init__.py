"""Storage and inspection of visit evidence (recordings, photos): no web or database imports."""
