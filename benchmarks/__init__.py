"""Rerunnable benchmarks of switch telemetry; each prints figures and ratios to references."""
