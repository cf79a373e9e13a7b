"""The JSON API: one module per family of routes, each with a `routes` list."""
