"""Library workflows: backup/restore, albums, sidecars, exports and workflow files.

Each module is one concept over the catalog and the media; the CLI and the HTTP API call them."""
