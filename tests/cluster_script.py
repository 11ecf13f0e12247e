"""Multi-node checks run in their own process (the test session already has its own local Ray):
the script prints one `RESULT <json>` line, which the test module reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run_cluster_script(name: str, *args: object, timeout: float) -> dict:
    script = Path(__file__).with_name(name)
    r = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, cwd=Path(__file__).parent.parent)
    lines = [line for line in r.stdout.splitlines() if line.startswith("RESULT ")]
    assert r.returncode == 0 and lines, r.stderr[-4000:]
    return json.loads(lines[0][len("RESULT "):])
