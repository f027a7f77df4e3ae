"""The 双百 programme's web side: rounds, applications, county pre-review, audit chain (docs/programme.md §1, §3)."""
