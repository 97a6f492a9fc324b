"""Build Redis clients whose timeouts and retries are chosen, not inherited."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry


def connect(url: str, *, timeout: float = 0.5, retries: int = 1) -> redis.Redis:
    """Return a client for ``url`` that gives up after about ``timeout`` seconds per attempt.

    redis-py 8 retries ten times with backoff by default (about 4.5 s against a dead server);
    a service that must answer fast sets the budget here instead.
    """
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries),
        health_check_interval=30,
    )


def redacted(url: str) -> str:
    """Return ``url`` with its password, if any, masked: for logs and status output."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
