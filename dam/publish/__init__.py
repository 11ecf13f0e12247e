"""Bulk publishing to stock platforms: curate, package (media + the target's CSV + XMP sidecars)
and upload over FTP/FTPS or SFTP, resumably, each file verified by size."""
