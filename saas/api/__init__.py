"""The read-only public JSON API of the marketplace (and its OpenAPI document)."""
