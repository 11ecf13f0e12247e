"""Media on network shares (SMB2/3: a NAS, a Windows or Samba server) pulled into a media root.

`smb.py` talks to the share (smbprotocol's smbclient) and knows nothing of the catalog; `sync.py`
decides what to pull, resumes and verifies copies; `store.py` owns the `remotes` and
`remote_files` tables. The use case (dam.usecases.remote) joins them to the Library."""
