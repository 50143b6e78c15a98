"""Background work, each job declared once (`api.jobs.declared`) and run by one runner (`api.jobs.runner`): in the
server's process (its lifespan) or in `fieldvisit worker` processes, never twice at once across them."""
