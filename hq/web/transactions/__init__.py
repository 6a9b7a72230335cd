"""Transaction search, a transaction's page and its recordings."""
