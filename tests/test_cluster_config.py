"""cluster.yaml is a config `ray up` accepts, and keeps the dashboard off the network."""

from pathlib import Path

import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CONFIG = Path(__file__).parent.parent / "cluster.yaml"


def test_cluster_yaml_passes_rays_schema():
    cfg = prepare_config(yaml.safe_load(CONFIG.read_text()))
    validate_config(cfg)
    types = cfg["available_node_types"]
    assert {"head", "gpu_worker", "cpu_worker", "camera_host"} <= set(types)
    assert types["camera_host"]["resources"]["camera_host"] == 1


def test_dashboard_bound_to_loopback():
    cmds = " ".join(yaml.safe_load(CONFIG.read_text())["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in cmds


def test_cluster_nodes_get_the_serve_settings_a_local_ray_gets():
    from dam.runtime.start import SERVE_FAST_PATH

    line = next(c for c in yaml.safe_load(CONFIG.read_text())["setup_commands"] if "export RAY_SERVE_" in c)
    exported = line.split("export ", 1)[1].split("'", 1)[0].split()
    assert dict(pair.split("=", 1) for pair in exported) == SERVE_FAST_PATH
