"""The Herald client: configuration, runs, alerts, artifact events, flush and close."""

import atexit
import logging
import os
import ssl
import sys
import threading
import time
from datetime import timedelta
from typing import Any, Dict, Iterable, Mapping, Optional, Union

from . import _limits as L
from ._events import clean_artifact, clean_author, clean_level, clean_title, clean_url, new_run_id, run_context, valid_name
from ._log import OnceLog, logger
from ._run import Run, alert_wait_seconds, clip_alert_text, dedup_alert, end_state_of
from ._sender import CRITICAL, Sender

_TRUE = ("1", "true", "yes", "on")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


class Client:
    """Sends events to Herald from a background thread; nothing it does raises into your code.

    ``url`` and ``api_key`` default to ``HERALD_URL`` and ``HERALD_API_KEY``. Without either
    (or with ``HERALD_DISABLED=1``) the client is a no-op. Events wait in a buffer of
    ``max_queue`` events; a batch (up to ``batch_size`` events) leaves once its oldest event has
    waited ``flush_interval`` seconds. Herald being unreachable only delays them: they are
    retried (backoff up to ``max_retry_delay`` seconds, or what ``Retry-After`` says) until
    Herald answers or the process exits, where the client waits up to ``exit_timeout``
    seconds for what is left.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        disabled: Optional[bool] = None,
        max_queue: int = 100_000,
        batch_size: int = L.MAX_BATCH,
        flush_interval: float = 0.2,
        timeout: float = 10.0,
        max_retry_delay: float = 30.0,
        max_body_bytes: int = 8_000_000,
        exit_timeout: float = 10.0,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        self._warn = OnceLog()
        self._clock = time.monotonic
        self._runs: Dict[int, Run] = {}
        self._runs_lock = threading.Lock()
        self._client_alerts: Dict[str, float] = {}
        self._client_alerts_lock = threading.Lock()
        self._pid = os.getpid()
        self._exit_timeout = exit_timeout
        self._sender: Optional[Sender] = None
        self._closed = False
        url = url if url is not None else os.environ.get("HERALD_URL", "").strip()
        api_key = api_key if api_key is not None else os.environ.get("HERALD_API_KEY", "").strip()
        if disabled is None:
            disabled = _env_flag("HERALD_DISABLED")
        if not disabled:
            missing = [name for name, value in (("HERALD_URL", url), ("HERALD_API_KEY", api_key)) if not value]
            if missing:
                logger.warning("Herald: %s not set: the client sends nothing", " and ".join(missing))
                disabled = True
        if not disabled:
            try:
                self._sender = Sender(
                    url,
                    api_key,
                    max_queue=max_queue,
                    batch_size=batch_size,
                    linger=flush_interval,
                    timeout=timeout,
                    max_retry_delay=max_retry_delay,
                    max_body_bytes=max_body_bytes,
                    ssl_context=ssl_context,
                    warn=self._warn,
                )
            except ValueError as error:
                logger.error("Herald: %s; the client sends nothing", error)
                disabled = True
        self.disabled: bool = bool(disabled)
        if self._sender is not None:
            atexit.register(self._at_exit)

    def __repr__(self) -> str:
        where = "disabled" if self._sender is None else self._sender.origin
        return f"<herald.Client {where}>"

    # ------------------------------------------------------------------ runs and events

    def start_run(
        self,
        project: Optional[str] = None,
        name: Optional[str] = None,
        run_id: Optional[str] = None,
        author: Optional[str] = None,
        url: Optional[str] = None,
        group: Optional[str] = None,
        tags: Optional[Iterable[str]] = None,
        config: Optional[Mapping[str, Any]] = None,
    ) -> Run:
        """Queues RUN_STATE RUNNING and returns the run. ``project`` defaults to ``HERALD_PROJECT``;
        ``run_id`` is generated (8 characters) when not given, ``name`` defaults to the run id.
        ``group`` (a sweep or experiment group), ``tags`` and ``config`` (hyperparameters) go with
        the RUNNING report; Herald keeps them on the run for its filters, RUN_GROUP_FINISHED and
        ``${run_group}``, ``${run_tags}``, ``${run_config.KEY}``."""
        project = project if project is not None else os.environ.get("HERALD_PROJECT")
        run_id = self._run_id(run_id)
        name = name if isinstance(name, str) else (run_id if name is None else str(name))
        if len(name) > L.MAX_RUN_NAME_CHARS:
            self._warn("run-name", logging.WARNING, "Herald: run names are at most %d characters; cut", L.MAX_RUN_NAME_CHARS)
            name = name[: L.MAX_RUN_NAME_CHARS]
        active = self._sender is not None
        if active and not valid_name(project):
            self._warn("project", logging.ERROR, "Herald: start_run needs a project (1 to %d characters, or HERALD_PROJECT); this run sends nothing", L.MAX_NAME_CHARS)
            active = False
        run = Run(self, str(project or ""), run_id, name, clean_url(url, self._warn), clean_author(author, self._warn), active, run_context(group, tags, config, self._warn))
        if active:
            with self._runs_lock:
                self._runs[id(run)] = run
            self._enqueue_safely(lambda: run._post_state("RUNNING"), "start_run")
        return run

    def _run_id(self, run_id: Any) -> str:
        if run_id is None or run_id == "":
            return new_run_id()
        text = str(run_id)
        if not valid_name(text):
            self._warn("run-id", logging.WARNING, "Herald: run ids are at most %d characters; cut", L.MAX_NAME_CHARS)
            text = text[: L.MAX_NAME_CHARS]
        return text

    def run_state(
        self,
        project: str,
        run_id: str,
        name: str,
        state: str,
        url: Optional[str] = None,
        author: Optional[str] = None,
        event_id: Optional[str] = None,
    ) -> None:
        """Queues a RUN_STATE event for a run this process did not start (e.g. from a Slurm epilog)."""
        if self._sender is None:
            return
        if not valid_name(project):
            self._warn("state-project", logging.ERROR, "Herald: run_state needs a project (1 to %d characters); not sent", L.MAX_NAME_CHARS)
            return
        run = Run(self, project, self._run_id(run_id), name, clean_url(url, self._warn), clean_author(author, self._warn), True)
        state = str(state).upper()
        if state not in L.RUN_STATES:
            self._warn("run-state", logging.ERROR, "Herald: %r is not a run state (%s); not sent", state[:32], ", ".join(L.RUN_STATES))
            return
        event = run._event("RUN_STATE")
        event["run"] = dict(run._ref, state=state)
        if event_id is not None:
            event["id"] = event_id
        sender = self._sender
        self._enqueue_safely(lambda: sender.enqueue(CRITICAL, event), "run_state")

    def alert(
        self,
        title: str,
        text: Optional[str] = None,
        level: Any = "INFO",
        wait_duration: Union[float, timedelta, None] = None,
        *,
        project: Optional[str] = None,
        run_id: Optional[str] = None,
        run_name: Optional[str] = None,
        author: Optional[str] = None,
    ) -> bool:
        """Queues an ALERT of a project, with a run when ``run_id`` is given (prefer ``Run.alert``).
        Deduplicated per (project, title) as ``Run.alert`` is per (run, title)."""
        if self._sender is None:
            return False
        project = project if project is not None else os.environ.get("HERALD_PROJECT")
        if not valid_name(project):
            self._warn("alert-project", logging.ERROR, "Herald: alert needs a project (or HERALD_PROJECT); not sent")
            return False
        run_ref = None
        if run_id is not None:
            rid = self._run_id(run_id)
            run_ref = {"id": rid, "name": run_name if run_name is not None else rid}
        key = f"{project}\x00{run_ref['id'] if run_ref else ''}"
        return self._alert(self._client_alerts, self._client_alerts_lock, title, text, level, wait_duration, str(project), run_ref, clean_author(author, self._warn), key)

    def _alert(
        self,
        sent: Dict[str, float],
        lock: threading.Lock,
        title: Any,
        text: Any,
        level: Any,
        wait_duration: Union[float, timedelta, None],
        project: str,
        run_ref: Optional[Dict[str, str]],
        author: Optional[str],
        scope: str = "",
    ) -> bool:
        try:
            clean = clean_title(title)
            if not dedup_alert(sent, lock, f"{scope}\x00{clean}", alert_wait_seconds(wait_duration), self._clock()):
                return False
            event: Dict[str, Any] = {"type": "ALERT", "project": project, "title": clean, "level": clean_level(level, self._warn)}
            if text is not None and text != "":
                event["text"] = clip_alert_text(text)
            if run_ref is not None:
                event["run"] = run_ref
            if author is not None:
                event["author"] = author
            self._sender.enqueue(CRITICAL, event)  # type: ignore[union-attr]
            return True
        except Exception as error:
            self._failed("alert", error)
            return False

    def artifact_event(
        self,
        type: str,
        project: Optional[str] = None,
        artifact: Optional[Mapping[str, Any]] = None,
        *,
        alias: Optional[str] = None,
        tag: Optional[str] = None,
        run: Union[Run, Mapping[str, str], None] = None,
        author: Optional[str] = None,
        registry: Optional[bool] = None,
        event_id: Optional[str] = None,
    ) -> bool:
        """Queues an artifact event (CREATE_ARTIFACT, LINK_ARTIFACT, UNLINK_ARTIFACT,
        ADD/REMOVE_ARTIFACT_ALIAS with ``alias``, ADD/REMOVE_ARTIFACT_TAG with ``tag``).
        ``artifact`` is ``{"name", "version", "collection"}`` plus optional ``id``, ``type``,
        ``metadata``, ``aliases``, ``tags``. True when queued; a malformed event is reported and dropped."""
        if self._sender is None:
            return False
        try:
            kind = str(type).upper()
            if kind not in L.ARTIFACT_EVENT_TYPES:
                self._warn(f"artifact-type:{kind[:40]}", logging.ERROR, "Herald: %r is not an artifact event type (%s); not sent", kind[:40], ", ".join(L.ARTIFACT_EVENT_TYPES))
                return False
            project = project if project is not None else os.environ.get("HERALD_PROJECT")
            if not valid_name(project):
                self._warn("artifact-project", logging.ERROR, "Herald: artifact events need a project (or HERALD_PROJECT); not sent")
                return False
            clean = clean_artifact(artifact, self._warn)
            if clean is None:
                return False
            event: Dict[str, Any] = {"type": kind, "project": project, "artifact": clean}
            for field, value in (("alias", alias), ("tag", tag)):
                needed = kind.endswith("_" + field.upper())
                if needed and not valid_name(value):
                    self._warn(f"artifact-{field}", logging.ERROR, "Herald: %s events need %s (1 to %d characters); not sent", kind, field, L.MAX_NAME_CHARS)
                    return False
                if needed:
                    event[field] = value
            if isinstance(run, Run):
                event["run"] = run._ref
            elif run is not None:
                event["run"] = {"id": str(run["id"]), "name": str(run.get("name", run["id"]))}
            author = clean_author(author, self._warn)
            if author is not None:
                event["author"] = author
            if registry is not None:
                event["registry"] = bool(registry)
            if event_id is not None:
                event["id"] = str(event_id)
            self._sender.enqueue(CRITICAL, event)
            return True
        except Exception as error:
            self._failed("artifact_event", error)
            return False

    # ------------------------------------------------------------------ delivery control

    def flush(self, timeout: float = 10.0) -> bool:
        """Waits until every event queued so far has been answered by Herald; False after ``timeout`` seconds."""
        if self._sender is None:
            return True
        try:
            return self._sender.flush(timeout)
        except Exception as error:
            self._failed("flush", error)
            return False

    def close(self, timeout: float = 10.0) -> bool:
        """Sends what is queued for up to ``timeout`` seconds, then stops the thread. True when nothing was left."""
        if self._sender is None or self._closed:
            return True
        self._closed = True
        try:
            atexit.unregister(self._at_exit)
            return self._sender.close(timeout)
        except Exception as error:
            self._failed("close", error)
            return False

    @property
    def stats(self) -> Dict[str, int]:
        """Counts so far: ``queued`` (buffered or in flight), ``sent``, ``duplicates`` (sent before,
        answered as such), ``dropped`` (buffer full), ``refused`` (400/401/403…), ``unsent`` (left at close)."""
        sender = self._sender
        if sender is None:
            return {"queued": 0, "sent": 0, "duplicates": 0, "dropped": 0, "refused": 0, "unsent": 0}
        return {
            "queued": sender.queued(),
            "sent": sender.sent,
            "duplicates": sender.duplicates,
            "dropped": sender.dropped,
            "refused": sender.refused,
            "unsent": sender.unsent,
        }

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close(self._exit_timeout)

    # ------------------------------------------------------------------ internals

    def _forget(self, run: Run) -> None:
        with self._runs_lock:
            self._runs.pop(id(run), None)

    def _enqueue_safely(self, action: Any, what: str) -> None:
        try:
            action()
        except Exception as error:
            self._failed(what, error)

    def _failed(self, what: str, error: BaseException) -> None:
        self._warn(f"failed:{what}:{type(error).__name__}", logging.ERROR, "Herald: %s failed inside the client (%s: %s); training goes on", what, type(error).__name__, error)

    def _at_exit(self) -> None:
        """At interpreter exit: end the runs still open as the script ended, then send what is left."""
        try:
            if os.getpid() == self._pid:
                exc = None if hasattr(sys, "ps1") or sys.flags.interactive else getattr(sys, "last_value", None)
                with self._runs_lock:
                    runs = list(self._runs.values())
                for run in runs:
                    run._end_with(type(exc) if exc is not None else None, exc)
                    logger.debug("Herald: run %s ended at exit as %s", run.id, end_state_of(type(exc) if exc is not None else None, exc))
            self.close(self._exit_timeout)
        except Exception:
            pass


_default_client: Optional[Client] = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The process's shared client (from HERALD_URL / HERALD_API_KEY), made on first use."""
    global _default_client
    with _default_lock:
        if _default_client is None:
            _default_client = Client()
        return _default_client
