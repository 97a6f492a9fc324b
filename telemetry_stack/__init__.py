"""The ``telemetry`` command: one entry point for every role, and the local stack."""
