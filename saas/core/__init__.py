"""Infrastructure shared by every feature: database, tenancy, security, limits, jobs, mail, audit, errors, PDF."""
