"""``telemetry compose``: compose.yaml on this machine's Docker engine, or on a private one."""
