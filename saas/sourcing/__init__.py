"""Buyer tools around the marketplace: favourites (saved per account) and a side-by-side comparison of products."""
