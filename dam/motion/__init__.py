"""Motion on video: detection robust to noise and light changes, tracks, timelines. Pure
functions and small stateful classes; no Ray here (live cameras wire it up in dam/actors)."""
