"""Code shared by every service: the Redis layout, settings from the environment, logging."""
