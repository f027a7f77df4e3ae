"""B2B industry marketplace: catalogue, attribute validation and product images (pure, no Flask)."""
