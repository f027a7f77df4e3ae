"""PDF reports: content-keyed cache, background rendering jobs and the sweeper."""
