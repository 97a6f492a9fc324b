"""The refresher: keeps the Redis snapshot filled from the generator's ``/counters``."""
