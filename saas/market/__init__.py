"""The marketplace: supplier products, moderation and the public catalogue."""
