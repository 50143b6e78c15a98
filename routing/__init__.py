"""Route optimisation for next-day visit sheets: a pure library with no web or database imports.

`solve(instance, time_limit=..., seed=...)` plans a day; `routing.check.check` verifies any plan independently.
"""

from routing.portfolio import solve

__all__ = ["solve"]
