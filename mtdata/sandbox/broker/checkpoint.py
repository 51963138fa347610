"""WAL checkpoints off the event loop: the store's connection stops checkpointing by itself (a checkpoint
fsyncs the database file, 10-80 ms that stalled whichever trade's COMMIT crossed the WAL threshold), and a
thread with its own connection runs passive checkpoints instead.

Durability is unchanged: a transaction is durable once its COMMIT wrote it to the WAL; a checkpoint only
copies committed pages into the main database file (and never blocks readers or writers in passive mode).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("mtdata.sandbox.broker")

#: Seconds between two passive checkpoints.
INTERVAL = 0.5


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` every ``interval`` seconds on its own thread and connection."""

    def __init__(self, path: Path, interval: float = INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the checkpoint thread (the caller turns the main connection's auto-checkpoint off)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mtdata-wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after its current checkpoint."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout=100")
            while not self._stop.wait(self.interval):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # busy or locked: the next pass catches up
                    log.debug("WAL checkpoint skipped: %s", error)
        finally:
            db.close()
