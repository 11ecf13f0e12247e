"""Bulk publishing to stock platforms: curate, package (media + the target's CSV + XMP sidecars)
and upload over FTP/FTPS, resumably, each file verified by size."""
