"""Cameras: their identity, settings and history in the catalog (store.py). The live side (capture,
preview, recording) runs in Ray actors under dam/actors/, which read and write through this store."""
