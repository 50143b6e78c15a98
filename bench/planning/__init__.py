"""A synthetic branch day planned through fieldvisit's service layer (start_run, execute_run), each phase timed."""
