"""Ray Data pipelines: shard -> decode -> shots -> embed, streamed back to the single writer."""
