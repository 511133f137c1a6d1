import logging
import os
import unittest
from typing import Any, List

import herald

from .fake_herald import FakeHerald

KEY = "hrd_test_key"


class CapturedLogs(logging.Handler):
    """Every record the ``herald`` logger emits during a test, at every level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.DEBUG) -> List[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]


class ClientTest(unittest.TestCase):
    """Starts a FakeHerald per test; ``client()`` makes clients that are closed afterwards."""

    def setUp(self) -> None:
        self.fake = FakeHerald()
        self.logs = CapturedLogs()
        logger = logging.getLogger("herald")
        logger.addHandler(self.logs)
        self._level = logger.level
        logger.setLevel(logging.DEBUG)
        self._clients: List[herald.Client] = []
        self._env = {name: os.environ.pop(name) for name in ("HERALD_URL", "HERALD_API_KEY", "HERALD_DISABLED", "HERALD_PROJECT", "HERALD_AUTHOR") if name in os.environ}

    def tearDown(self) -> None:
        for client in self._clients:
            client.close(0.5)
        self.fake.close()
        logger = logging.getLogger("herald")
        logger.removeHandler(self.logs)
        logger.setLevel(self._level)
        os.environ.update(self._env)

    def client(self, **options: Any) -> herald.Client:
        options.setdefault("url", self.fake.url)
        options.setdefault("api_key", KEY)
        client = herald.Client(**options)
        self._clients.append(client)
        return client
