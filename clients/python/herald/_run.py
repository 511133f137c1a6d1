"""A training run: metrics, log lines, alerts and its end state, all queued, none blocking."""

import logging
import threading
import traceback
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Dict, Iterable, Mapping, Optional, Type, Union

from . import _limits as L
from ._events import clean_lines, clean_metrics, clean_step, clip_utf8
from ._log import logger
from ._sender import CRITICAL, LOG, METRIC

if TYPE_CHECKING:
    from ._client import Client

# RUN_LOG events are kept well under the body limit so a batch always has room for them.
_MAX_LOG_EVENT_BYTES = 1024 * 1024

_STATE_ALIASES = {
    "SUCCESS": "FINISHED",
    "SUCCEEDED": "FINISHED",
    "COMPLETED": "FINISHED",
    "DONE": "FINISHED",
    "ERROR": "FAILED",
    "ERRORED": "FAILED",
    "CANCELED": "KILLED",
    "CANCELLED": "KILLED",
}


def end_state_of(exc_type: Optional[Type[BaseException]], exc: Optional[BaseException]) -> str:
    """The state a run ends in when its block exits with this exception (or none)."""
    if exc_type is None:
        return "FINISHED"
    if issubclass(exc_type, KeyboardInterrupt):
        return "KILLED"
    if issubclass(exc_type, SystemExit):
        code = getattr(exc, "code", None)
        return "FINISHED" if code in (None, 0) else "FAILED"
    return "FAILED"


def last_line_of(exc_type: Type[BaseException], exc: Optional[BaseException]) -> str:
    """The last line of the traceback Python would print: ``ValueError: loss diverged``."""
    return traceback.format_exception_only(exc_type, exc)[-1].strip()


class Run:
    """One run of a project. Made by :meth:`herald.Client.start_run`; every method returns at once.

    ``log``, ``log_lines`` and ``alert`` queue events for the client's background thread and
    never raise: a value that cannot be sent is left out and reported once through the
    ``herald`` logger.
    """

    def __init__(
        self,
        client: "Client",
        project: str,
        run_id: str,
        name: str,
        url: Optional[str],
        author: Optional[str],
        active: bool,
        context: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._client = client
        self.project = project
        self.id = run_id
        self.name = name
        self.url = url
        self.author = author
        # The run object every event of this run carries; never changed after this.
        self._ref: Dict[str, str] = {"id": run_id, "name": name}
        if url is not None:
            self._ref["url"] = url
        self._active = active
        # group, tags and config: sent once, with the RUNNING report (Herald keeps the latest).
        self._context: Dict[str, Any] = dict(context or {})
        # log/log_lines stop at finish(); an alert about a finished run is still sent.
        self._logging = active
        self._lock = threading.Lock()
        self._alerted: Dict[str, float] = {}
        self.state: Optional[str] = "RUNNING" if active else None

    def __repr__(self) -> str:
        return f"Run(project={self.project!r}, id={self.id!r}, name={self.name!r}, state={self.state!r})"

    @property
    def finished(self) -> bool:
        return self.state not in (None, "RUNNING")

    def _event(self, kind: str) -> Dict[str, Any]:
        event: Dict[str, Any] = {"type": kind, "project": self.project, "run": self._ref}
        if self.author is not None:
            event["author"] = self.author
        return event

    def log(self, metrics: Mapping[str, Any], step: Optional[int] = None) -> None:
        """Queues a RUN_METRICS event: ``run.log({"val/loss": 0.18}, step=1200)``.

        Values are numbers (Python, numpy or single-element torch tensors); NaN and ±inf are sent
        as ``"NaN"``/``"Infinity"``/``"-Infinity"``; a nested dict ``{"val": {"loss": x}}`` is
        sent as ``val/loss``. More than 1000 metrics are split into several events of the same step.
        """
        if not self._logging:
            self._not_logging("log")
            return
        sender = self._client._sender
        try:
            chunks = clean_metrics(metrics, self._client._warn)
            if not chunks:
                return
            clean = None if step is None else clean_step(step, self._client._warn)
            for values in chunks:
                event: Dict[str, Any] = {"type": "RUN_METRICS", "project": self.project, "run": self._ref, "metrics": values}
                if clean is not None:
                    event["step"] = clean
                if self.author is not None:
                    event["author"] = self.author
                sender.enqueue(METRIC, event)  # type: ignore[union-attr]
        except Exception as error:
            self._client._failed("log", error)

    def log_lines(self, lines: Union[str, Iterable[Any]]) -> None:
        """Queues RUN_LOG events (1000 lines each; lines over 8 KiB are cut); a string is split into lines."""
        if not self._logging:
            self._not_logging("log_lines")
            return
        try:
            for chunk in clean_lines(lines, _MAX_LOG_EVENT_BYTES):
                event = self._event("RUN_LOG")
                event["lines"] = chunk
                self._client._sender.enqueue(LOG, event)  # type: ignore[union-attr]
        except Exception as error:
            self._client._failed("log_lines", error)

    def alert(
        self,
        title: str,
        text: Optional[str] = None,
        level: Any = "INFO",
        wait_duration: Union[float, timedelta, None] = None,
    ) -> bool:
        """Queues an ALERT for this run, as W&B's ``run.alert`` does.

        The same title again within ``wait_duration`` seconds (default 60, as W&B; 0 sends every
        one) of the last one sent for this run is dropped. True when the alert was queued.
        """
        if not self._active:
            return False
        return self._client._alert(self._alerted, self._lock, title, text, level, wait_duration, self.project, self._ref, self.author)

    def finish(self, state: str = "FINISHED") -> None:
        """Queues the run's end state (FINISHED, FAILED, CRASHED or KILLED). Only the first call counts."""
        if not self._active:
            return
        try:
            clean = str(getattr(state, "value", state)).upper()
            clean = _STATE_ALIASES.get(clean, clean)
            if clean not in L.RUN_STATES or clean == "RUNNING":
                self._client._warn(
                    f"state:{clean[:32]}",
                    logging.ERROR,
                    "Herald: %r is not an end state (FINISHED, FAILED, CRASHED, KILLED); the run is reported FAILED",
                    clean[:32],
                )
                clean = "FAILED"
            with self._lock:
                if self.finished:
                    return
                self.state = clean
                self._logging = False
            self._post_state(clean)
            self._client._forget(self)
        except Exception as error:
            self._client._failed("finish", error)

    def _not_logging(self, what: str) -> None:
        if self._active:
            self._client._warn(f"after-finish:{what}", logging.WARNING, "Herald: %s() after the run finished is ignored", what)

    def _post_state(self, state: str) -> None:
        event = self._event("RUN_STATE")
        event["run"] = dict(self._ref, state=state)
        if state == "RUNNING" and self._context:
            event["run"].update(self._context)
        self._client._sender.enqueue(CRITICAL, event)  # type: ignore[union-attr]

    def _end_with(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException]) -> None:
        """Reports how the run's code ended: FAILED runs also get the exception's last line as a log."""
        state = end_state_of(exc_type, exc)
        if exc_type is not None and state != "FINISHED" and not self.finished:
            self.log_lines([last_line_of(exc_type, exc)])
        self.finish(state)

    def __enter__(self) -> "Run":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """FINISHED on a normal exit, FAILED on an exception (re-raised), KILLED on Ctrl-C."""
        self._end_with(exc_type, exc)


def alert_wait_seconds(wait_duration: Union[float, timedelta, None]) -> float:
    if wait_duration is None:
        return 60.0
    if isinstance(wait_duration, timedelta):
        return wait_duration.total_seconds()
    return float(wait_duration)


def dedup_alert(sent: Dict[str, float], lock: threading.Lock, title: str, wait: float, now: float) -> bool:
    """True when an alert with this title may be sent now (and records it as sent)."""
    with lock:
        last = sent.get(title)
        if last is not None and wait > 0 and now - last < wait:
            logger.debug("Herald: alert %r dropped: the same title was sent %.1f s ago (wait_duration %.0f s)", title[:80], now - last, wait)
            return False
        sent[title] = now
        return True


def clip_alert_text(text: Any) -> str:
    return clip_utf8(text if isinstance(text, str) else str(text), L.MAX_ALERT_TEXT_BYTES)

