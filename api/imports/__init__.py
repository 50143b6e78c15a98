"""Imports from the agency's systems: the case file."""
