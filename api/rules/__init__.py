"""Field rules: pure functions on plain values that decide whether something may happen (no ORM, no FastAPI)."""
