"""Use cases. Each runs in one database transaction, calls the pure rules, and never prints."""
