"""``telemetry status``: what Redis says about the snapshot, the refreshers and the queue."""
