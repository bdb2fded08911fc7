"""Read-only queries and renderers. Nothing here writes."""
