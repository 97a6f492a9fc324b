"""Fixtures of the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from refresher_worker import jobs


@pytest.fixture(autouse=True)
def unconfigured_refresh_jobs() -> Iterator[None]:
    """Forget the refresh context a test configured, so that the next one starts without."""
    yield
    jobs._context = None
