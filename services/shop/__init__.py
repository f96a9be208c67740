"""The shop: service tools and interfaces, ordered and paid without overselling."""
