"""What each API process holds between requests: a Redis client (its pool) and fixed settings.

No snapshot data lives here: every answer is read from Redis in the request that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import current_app

from api_service.config import ApiConfig
from api_service.refresh import RefreshAsker
from telemetry_common.keys import Keys

EXTENSION = "telemetry_api"
Client = redis.Redis  # the field ``redis`` below hides the module inside the class


@dataclass(frozen=True)
class ApiState:
    """The per-process state of the API, kept in ``app.extensions``."""

    config: ApiConfig
    redis: redis.Redis
    keys: Keys
    refresh: RefreshAsker
    queue: Client | None = None  # the refresh queue's Redis; None: ``redis``


def api_state() -> ApiState:
    """Return the state of the current app."""
    state: ApiState = current_app.extensions[EXTENSION]
    return state
