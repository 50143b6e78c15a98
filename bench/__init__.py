"""Benchmarks: measurements of fieldvisit's libraries against published instances and other solvers."""
