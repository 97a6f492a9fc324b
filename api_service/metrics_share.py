"""The API's request counts shared between worker processes, by one JSON file per worker.

Each worker process writes all its counts (metrics_store.Counts) to its own JSON file in the
metrics directory, at most every FLUSH_SECONDS and only when they changed (from a thread),
once more at exit, and whenever it answers ``/metrics``, which adds up every worker's file.
So another worker's counts reach ``/metrics`` at most FLUSH_SECONDS late. A write costs about
0.25 ms: twice a second, some 0.05 % of a core, plus one per scrape.
"""

from __future__ import annotations

import atexit
import json
import logging
import multiprocessing.util
import os
import threading
import time
from pathlib import Path
from typing import Any

from api_service.metrics_store import Counts, merge

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
FILE_PATTERN = "telemetry-api-*.json"


class FileShare:
    """Write one process's counts to its file in ``directory``; read every process's back."""

    def __init__(self, counts: Counts, directory: Path) -> None:
        self.counts, self.directory = counts, directory
        self.path = self._new_path()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one save at a time: dump, write, replace

    def _new_path(self) -> Path:
        return self.directory / f"telemetry-api-{os.getpid()}-{time.time_ns()}.json"

    def start(self) -> None:
        """Start the flushing thread (once), and again in any child this process forks.

        A child forked after this (a server that builds the app before forking its workers)
        starts from zero counts, with its own file and thread: it neither writes to its
        parent's file nor counts its parent's answers again.
        """
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, daemon=True, name="metrics")
        self._thread.start()
        atexit.register(self.flush)
        # granian's workers are multiprocessing processes, which end with os._exit, past
        # atexit; multiprocessing runs its own finalizers first.
        multiprocessing.util.Finalize(self, self.flush, exitpriority=10)
        if hasattr(os, "register_at_fork"):  # POSIX; Windows spawns, and builds the app anew
            os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        self.counts.forget()  # also renews its locks, which another thread may have held
        self._lock = threading.Lock()
        self.path = self._new_path()
        self._thread = threading.Thread(target=self._run, daemon=True, name="metrics")
        self._thread.start()

    def _run(self) -> None:
        failed = False
        while True:
            time.sleep(FLUSH_SECONDS)
            if not self.counts.pending():
                continue
            try:
                self.flush()
                failed = False
            except OSError as error:  # a full disk, say: try again next time, say so once
                if not failed:
                    logger.warning("could not write the metrics file %s: %s", self.path, error)
                failed = True

    def flush(self) -> dict[str, Any]:
        """Write this process's counts to its file, atomically; return what was written."""
        with self._lock:
            counts = self.counts.dump(saving=True)
            scratch = self.path.with_suffix(".tmp")
            scratch.write_text(json.dumps(counts))
            os.replace(scratch, self.path)
        return counts

    def collect(self) -> dict[str, Any]:
        """Return every process's counts added up, this one's saved first.

        Saving first keeps the sum from going back between two reads served by different
        workers: each read includes what every earlier read by another worker saved.
        """
        try:
            parts = [self.flush()]
        except OSError:
            parts = [self.counts.dump()]
        for path in self.directory.glob(FILE_PATTERN):
            if path != self.path:
                try:
                    parts.append(json.loads(path.read_text()))
                except (OSError, ValueError):  # replaced or removed meanwhile: skip it once
                    continue
        return merge(parts)
