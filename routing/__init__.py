"""Route optimisation for next-day visit sheets: a pure library with no web or database imports."""
