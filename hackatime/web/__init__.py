"""The web layer: dashboard pages, badges and the terminal overview."""
