"""Benchmarks of the routing library against open VRPTW solvers on Solomon and Gehring–Homberger instances."""
