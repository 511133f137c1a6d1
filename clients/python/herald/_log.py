"""The client's own logging: everything goes to the ``herald`` logger, problems once each."""

import logging
import threading
from typing import Set

logger = logging.getLogger("herald")


class OnceLog:
    """Logs a message the first time its key is seen, at DEBUG afterwards.

    Training loops call the client thousands of times a second: a problem that repeats (a
    refused key, a metric that is not a number) must not flood the job's output.
    """

    def __init__(self) -> None:
        self._seen: Set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, key: str, level: int, message: str, *args: object) -> bool:
        """Logs; True when this was the first time for ``key``."""
        with self._lock:
            first = key not in self._seen
            if first:
                self._seen.add(key)
        logger.log(level if first else logging.DEBUG, message, *args)
        return first
