"""``telemetry up``: the whole stack on this machine, supervised, stopped on Ctrl-C."""
