"""Payments from the core system, and the repayment promises they keep or break."""
