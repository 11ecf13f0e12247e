"""dam's Ray runtime: start or attach (`start.ensure_ray`), the runtime env and Serve's settings
every process inherits (`start`, `serve`), GPU and CPU shares, and `fanout.fan_out`, the one
helper for per-file work on Ray. Nothing else in dam calls `ray.init`.

Empty on purpose: `loopback` runs at the start of every Ray worker and must stay import-light."""
