"""The rule packs' data files, one per jurisdiction (see api/rules/packs.py)."""
