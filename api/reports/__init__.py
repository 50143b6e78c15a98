"""Reports that read across the domains: the case dossier."""
