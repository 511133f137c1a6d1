"""The background sender: a bounded, ordered buffer and one thread that posts batches.

Training code only ever appends to the buffer (under a lock held for a few hundred
nanoseconds). The thread takes up to ``batch_size`` events once the oldest has waited
``linger`` seconds (or at once when the batch is full, or a flush asks), posts them to
``/v1/events`` in requests under Herald's body limit, and retries network errors, 408, 425,
429 and 5xx with backoff, honouring ``Retry-After``. Every event gets its id before its first
attempt, so a retried request whose first try was in fact stored is answered
``duplicate: true`` and counted once.

The buffer holds three ordered queues: metrics (dropped first when the buffer is full), log
lines (dropped next), and everything else — run states, alerts, artifact events — which is
never dropped. A global sequence number keeps them in the order they were logged.
"""

import email.utils
import http.client
import json
import logging
import os
import random
import re
import ssl
import threading
import time
import weakref
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Set, Tuple
from urllib.parse import urlsplit

from . import _limits as L
from ._events import format_time
from ._log import OnceLog, logger
from ._version import __version__

METRIC = 0
LOG = 1
CRITICAL = 2

Entry = Tuple[int, float, Dict[str, Any]]
"""(sequence number, time logged, event)."""

_RETRYABLE = frozenset((408, 425, 429))
# One encoder, made once: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_EVENT_INDEX = re.compile(r"^events\[(\d+)\]")
# A response this large is not Herald's answer to a batch; read no more of it.
_MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class Sender:
    """Owns the buffer, the thread and the HTTP connection of one Client."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        max_queue: int,
        batch_size: int,
        linger: float,
        timeout: float,
        max_retry_delay: float,
        max_body_bytes: int,
        ssl_context: Optional[ssl.SSLContext],
        warn: OnceLog,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the Herald URL must be an http:// or https:// URL")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = parts.path.rstrip("/") + "/v1/events"
        # Logged instead of the URL: no path, query or user:password@ ever reaches a log.
        self.origin = f"{parts.scheme}://{self._host}:{self._port}"
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "User-Agent": f"herald-python/{__version__}",
        }
        self._ssl_context = ssl_context
        self._max_queue = max(1, int(max_queue))
        self._batch_size = max(1, min(int(batch_size), L.MAX_BATCH))
        self._linger = max(0.0, float(linger))
        self._timeout = float(timeout)
        self._max_retry_delay = max(0.01, float(max_retry_delay))
        self._max_body = max(1024, min(int(max_body_bytes), L.MAX_BODY_BYTES))
        self._warn = warn
        self._conn: Optional[http.client.HTTPConnection] = None
        self._reset()
        _live_senders.add(self)

    def _reset(self) -> None:
        """Fresh state: at construction, and in a forked child (whose parent owns what was queued)."""
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queues: Tuple[Deque[Entry], Deque[Entry], Deque[Entry]] = (deque(), deque(), deque())
        self._size = 0
        self._seq = 0
        self._first_at = 0.0
        self._id_prefix = "hc-" + os.urandom(8).hex() + "-"
        self._inflight: Optional[int] = None
        self._inflight_count = 0
        self._flushing = 0
        self._closing = False
        self._give_up_at: Optional[float] = None
        self._thread: Optional[threading.Thread] = None
        self._failing_since: Optional[float] = None
        self._disconnect()
        self.sent = 0
        self.duplicates = 0
        self.dropped = 0
        self.refused = 0
        self.unsent = 0

    # ------------------------------------------------------------------ training-code side

    def enqueue(self, kind: int, event: Dict[str, Any]) -> None:
        """Appends one event; never blocks on the network, never raises."""
        now = time.time()
        with self._lock:
            if self._closing:
                self._warn("closed", logging.WARNING, "Herald: the client is closed; events logged after close() are not sent")
                return
            if self._thread is None:
                self._start_thread()
            self._seq += 1
            self._queues[kind].append((self._seq, now, event))
            size = self._size = self._size + 1
            if size > self._max_queue:
                self._drop_oldest()
            if size == 1:
                self._first_at = time.monotonic()  # the linger runs from here
                self._cond.notify()
            elif size == self._batch_size:
                self._cond.notify()

    def _drop_oldest(self) -> None:
        for kind in (METRIC, LOG):
            queue = self._queues[kind]
            if queue:
                queue.popleft()
                self._size -= 1
                self.dropped += 1
                self._warn(
                    "buffer-full",
                    logging.WARNING,
                    "Herald: the buffer is full (%d events; Herald unreachable at %s?): dropping the oldest %s events. "
                    "Run states and alerts are kept. The client's stats count what was dropped.",
                    self._max_queue,
                    self.origin,
                    "metric" if kind == METRIC else "log",
                )
                return

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="herald-sender", daemon=True)
        self._thread.start()

    def flush(self, timeout: float) -> bool:
        """Waits until every event enqueued so far was sent (or refused); False after ``timeout``."""
        end = time.monotonic() + max(0.0, timeout)
        with self._lock:
            target = self._seq
            if self._done_through(target):
                return True
            self._flushing += 1
            self._cond.notify_all()
            try:
                while not self._done_through(target):
                    remaining = end - time.monotonic()
                    if remaining <= 0 or self._thread is None or not self._thread.is_alive():
                        return False
                    self._cond.wait(min(remaining, 0.25))
                return True
            finally:
                self._flushing -= 1

    def _done_through(self, target: int) -> bool:
        """No event with a sequence number ≤ target is queued or in flight."""
        if self._inflight is not None and self._inflight <= target:
            return False
        return all(not queue or queue[0][0] > target for queue in self._queues)

    def close(self, timeout: float) -> bool:
        """Sends what is buffered for up to ``timeout`` seconds, then stops; True when nothing was left."""
        with self._lock:
            if not self._closing:
                self._closing = True
                self._give_up_at = time.monotonic() + max(0.0, timeout)
            self._cond.notify_all()
            thread = self._thread
            unsent_before = self.unsent
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, timeout) + 1.0)
        with self._lock:
            self.unsent += self._size
            for queue in self._queues:
                queue.clear()
            self._size = 0
            # Given up by the thread, left in the buffer, or still in a request that outlived the wait.
            left = self.unsent - unsent_before + self._inflight_count
        if left:
            logger.warning("Herald: %d events were not sent: Herald did not answer at %s before the client closed", left, self.origin)
        return left == 0

    def queued(self) -> int:
        with self._lock:
            return self._size + self._inflight_count

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                self._disconnect()
                return
            try:
                self._deliver(batch)
            except Exception:  # never let the thread die: the next batch is tried as usual
                logger.exception("Herald: unexpected error while sending a batch of %d events", len(batch))
            finally:
                with self._lock:
                    self._inflight = None
                    self._inflight_count = 0
                    self._cond.notify_all()

    def _giving_up(self) -> bool:
        return self._give_up_at is not None and time.monotonic() >= self._give_up_at

    def _next_batch(self) -> Optional[List[Entry]]:
        with self._lock:
            while True:
                if self._closing and (self._size == 0 or self._giving_up()):
                    return None
                if self._size == 0:
                    self._cond.wait(self._remaining_until_give_up())
                    continue
                if self._size < self._batch_size and not self._flushing and not self._closing:
                    remaining = self._first_at + self._linger - time.monotonic()
                    if remaining > 0:
                        self._cond.wait(min(remaining, self._linger))
                        continue
                return self._take()

    def _remaining_until_give_up(self) -> Optional[float]:
        if self._give_up_at is None:
            return None
        return max(0.0, self._give_up_at - time.monotonic())

    def _take(self) -> List[Entry]:
        """Up to batch_size entries, oldest first across the three queues."""
        batch: List[Entry] = []
        queues = self._queues
        while len(batch) < self._batch_size:
            best: Optional[Deque[Entry]] = None
            for queue in queues:
                if queue and (best is None or queue[0][0] < best[0][0]):
                    best = queue
            if best is None:
                break
            batch.append(best.popleft())
        self._size -= len(batch)
        # What is left waited as long as this batch: it goes next, without a linger.
        self._first_at = float("-inf")
        self._inflight = batch[0][0]
        self._inflight_count = len(batch)
        return batch

    def _deliver(self, batch: List[Entry]) -> None:
        events: List[Dict[str, Any]] = []
        for seq, logged_at, event in batch:
            if "id" not in event:
                event["id"] = self._id_prefix + str(seq)
            if "occurredAt" not in event:
                event["occurredAt"] = format_time(logged_at)
            events.append(event)
        try:
            body: Optional[bytes] = _encode(events)
        except (TypeError, ValueError):
            body = None
        if body is not None and len(body) <= self._max_body:
            self._send(events, body)  # the usual case: one request, encoded in one call
            return
        # Some event cannot be encoded, or the batch is over the body limit: event by event.
        chunk: List[Dict[str, Any]] = []
        size = 2
        for event in events:
            try:
                length = len(_encode(event))
            except (TypeError, ValueError) as error:
                self.refused += 1
                self._warn("encode", logging.ERROR, "Herald: a %s event could not be encoded as JSON and is not sent: %s", event.get("type"), error)
                continue
            if length + 2 > self._max_body:
                self.refused += 1
                self._warn("too-large", logging.ERROR, "Herald: a %s event of %d bytes is over the body limit and is not sent", event.get("type"), length)
                continue
            if chunk and size + length + 1 > self._max_body:
                if not self._send(chunk):
                    return
                chunk, size = [], 2
            chunk.append(event)
            size += length + 1
        if chunk:
            self._send(chunk)

    def _send(self, events: List[Dict[str, Any]], body: Optional[bytes] = None) -> bool:
        """Posts ``events`` until Herald takes or refuses them; False when giving up (closing)."""
        attempt = 0
        errors_500 = 0
        while events:
            if body is None:
                body = _encode(events)
            try:
                status, headers, answer = self._post(body)
            except Exception as error:
                delay = self._backoff(attempt)
                self._failing(f"{type(error).__name__}: {error}", delay)
                attempt += 1
                if not self._sleep(delay, server_asked=False):
                    self.unsent += len(events)
                    return False
                continue
            if 200 <= status < 300:
                self._recovered()
                self.sent += len(events)
                self.duplicates += _count_duplicates(answer)
                return True
            if status == 400:
                bad = _refused_indices(answer, len(events))
                self._refused(status, answer, len(bad) if bad else len(events))
                if bad and len(bad) < len(events):
                    events = [event for index, event in enumerate(events) if index not in bad]
                    body = None
                    continue
                return True
            if status == 413 and len(events) > 1:
                half = len(events) // 2
                return self._send(events[:half]) and self._send(events[half:])
            if status == 500:
                # Herald answers 500 to what it did not expect. Once is a hiccup; again and
                # again, some event may be the cause: halve the batch until it is isolated, so
                # one event never holds back everything logged after it.
                errors_500 += 1
                if errors_500 >= _MAX_500_PER_BATCH:
                    if len(events) > 1:
                        half = len(events) // 2
                        return self._send(events[:half]) and self._send(events[half:])
                    self._refused(status, answer, 1)
                    return True
            if status in _RETRYABLE or status >= 500:
                asked = _retry_after(headers.get("Retry-After"))
                delay = asked if asked is not None else self._backoff(attempt)
                self._failing(f"HTTP {status}", delay)
                attempt += 1
                if not self._sleep(delay, server_asked=asked is not None):
                    self.unsent += len(events)
                    return False
                continue
            # 401, 403, 404, 413 of one event, 3xx and other 4xx: final.
            self._refused(status, answer, len(events))
            return True
        return True

    def _post(self, body: bytes) -> Tuple[int, Any, bytes]:
        reused = self._conn is not None
        try:
            return self._request(body)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.CannotSendRequest):
            if not reused:
                raise
            # A kept-alive connection the server had closed: one immediate try on a new one.
            return self._request(body)

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _request(self, body: bytes) -> Tuple[int, Any, bytes]:
        if self._conn is None:
            if self._https:
                context = self._ssl_context or ssl.create_default_context()
                self._conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout, context=context)
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        conn = self._conn
        try:
            conn.request("POST", self._path, body=body, headers=self._headers)
            response = conn.getresponse()
            answer = response.read(_MAX_RESPONSE_BYTES)
            if not response.isclosed():
                conn.close()
                self._conn = None
            return response.status, response.headers, answer
        except BaseException:
            conn.close()
            self._conn = None
            raise

    def _backoff(self, attempt: int) -> float:
        base = min(self._max_retry_delay, 0.5 * (2.0 ** min(attempt, 16)))
        return base * random.uniform(0.8, 1.2)

    def _sleep(self, seconds: float, server_asked: bool) -> bool:
        """Waits before a retry; False when the client is closing and its time is up.

        While a flush or close is waiting, our own backoff is shortened to at most 1 s (Herald
        may be back); a delay Herald asked for with Retry-After is kept.
        """
        start = time.monotonic()
        with self._lock:
            while True:
                if self._giving_up():
                    return False
                hurry = (self._flushing or self._closing) and not server_asked
                end = start + (min(seconds, 1.0) if hurry else seconds)
                now = time.monotonic()
                if now >= end:
                    return True
                wait = end - now
                if self._give_up_at is not None:
                    wait = min(wait, max(0.0, self._give_up_at - now))
                self._cond.wait(wait)

    def _failing(self, reason: str, delay: float) -> None:
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            logger.warning(
                "Herald: cannot post events to %s (%s); retrying in %.1f s. Events are kept in the buffer meanwhile.",
                self.origin,
                reason,
                delay,
            )
        else:
            logger.debug("Herald: still cannot post events to %s (%s); retrying in %.1f s", self.origin, reason, delay)

    def _recovered(self) -> None:
        if self._failing_since is not None:
            logger.warning("Herald: %s answers again after %.1f s; sending the buffered events", self.origin, time.monotonic() - self._failing_since)
            self._failing_since = None

    def _refused(self, status: int, answer: bytes, count: int) -> None:
        self._recovered()
        self.refused += count
        self._warn(
            f"status-{status}",
            logging.ERROR,
            "Herald refused %d events with HTTP %d (%s); they are not retried. %s",
            count,
            status,
            _error_message(answer),
            _HINTS.get(status, ""),
        )


_HINTS = {
    401: "Check HERALD_API_KEY: the key is missing, unknown or revoked.",
    403: "The API key's role cannot post events, or it is limited to other projects.",
    404: "Check HERALD_URL: it must be Herald's base URL (the client adds /v1/events).",
}


def _encode(value: Any) -> bytes:
    """JSON bytes; a list is encoded 100 events at a time, so the encoder (which holds the GIL
    throughout) never keeps the training thread waiting for more than about a millisecond."""
    if not isinstance(value, list) or len(value) <= _ENCODE_SLICE:
        return _ENCODER.encode(value).encode("utf-8")
    parts = [_ENCODER.encode(value[i : i + _ENCODE_SLICE])[1:-1] for i in range(0, len(value), _ENCODE_SLICE)]
    return ("[" + ",".join(parts) + "]").encode("utf-8")


_ENCODE_SLICE = 100
_MAX_500_PER_BATCH = 3


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After in seconds (a number of seconds or an HTTP date), capped at 5 minutes."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:
        return None
    return min(max(seconds, 0.0), 300.0)


def _count_duplicates(answer: bytes) -> int:
    try:
        results = json.loads(answer)["results"]
        return sum(1 for result in results if result.get("duplicate"))
    except Exception:
        return 0


def _refused_indices(answer: bytes, count: int) -> Set[int]:
    """The batch positions Herald's 400 names (``details[].field`` = ``events[3]...``)."""
    try:
        details = json.loads(answer).get("details") or []
    except Exception:
        return set()
    indices = set()
    for detail in details:
        match = _EVENT_INDEX.match(str(detail.get("field", "")))
        if match is None:
            return set()  # a problem with the batch as a whole
        index = int(match.group(1))
        if index < count:
            indices.add(index)
    return indices


def _error_message(answer: bytes) -> str:
    try:
        body = json.loads(answer)
        message = str(body.get("message", ""))
        details = body.get("details") or []
        if details:
            first = details[0]
            message += f" — {first.get('field')}: {first.get('reason')}"
        return message[:500] or "no message"
    except Exception:
        return answer[:200].decode("utf-8", "replace") or "no message"


_live_senders: "weakref.WeakSet[Sender]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # The child starts empty: what was buffered before the fork is the parent's to send.
    for sender in list(_live_senders):
        sender._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
