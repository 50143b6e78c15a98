"""The fieldvisit web service."""
