"""Long-lived Ray actors: camera owners, device watchers and single-writer services."""
