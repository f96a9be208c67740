"""Partners: what tool makers and partner systems take data with (API keys with scopes, counted and throttled)."""
