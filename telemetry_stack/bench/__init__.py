"""``telemetry bench``: load-test a deployment's API and check every answer."""
