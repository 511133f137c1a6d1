"""A stand-in for Herald's ``POST /v1/events`` on 127.0.0.1, for the client's unit tests.

It checks what the real endpoint checks about batches (size, body limit, ids, metric values)
and answers as Herald does — ``{results: [{index, id, duplicate, …}]}``, duplicates by id —
or with the replies a test queues (503, 429 with Retry-After, 401, a dropped connection…).
The end-to-end tests in ``test/python-client.e2e-spec.ts`` run the client against the real
server.
"""

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, Union

MAX_BODY = 8 * 1024 * 1024
CLIENT_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
TYPES = {
    "RUN_METRICS", "RUN_STATE", "RUN_LOG", "ALERT", "CREATE_ARTIFACT", "LINK_ARTIFACT", "UNLINK_ARTIFACT",
    "ADD_ARTIFACT_ALIAS", "REMOVE_ARTIFACT_ALIAS", "ADD_ARTIFACT_TAG", "REMOVE_ARTIFACT_TAG",
}

Reply = Union[Tuple[int, Dict[str, str], bytes], str]
"""(status, headers, body); "drop" closes the connection without an answer; "store-then-drop"
stores the batch first, as a server that crashed after committing would have."""


class Request:
    def __init__(self, path: str, headers: Dict[str, str], body: bytes, at: float) -> None:
        self.path = path
        self.headers = headers
        self.body = body
        self.at = at

    @property
    def events(self) -> List[Dict[str, Any]]:
        parsed = json.loads(self.body)
        return parsed if isinstance(parsed, list) else [parsed]


class FakeHerald:
    def __init__(self, port: int = 0, max_body: int = MAX_BODY) -> None:
        self.requests: List[Request] = []
        self.stored: List[Dict[str, Any]] = []
        self.max_body = max_body
        # Events the server fails on (a 500) whenever a batch holds one.
        self.poison: Optional[Callable[[Dict[str, Any]], bool]] = None
        self._ids: Dict[str, int] = {}
        self._replies: List[Reply] = []
        self._connections: Set[socket.socket] = set()
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self.port = port
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake._connections.add(self.connection)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                request = Request(self.path, dict(self.headers), body, time.monotonic())
                with fake._lock:
                    fake.requests.append(request)
                    reply = fake._replies.pop(0) if fake._replies else None
                if reply in ("drop", "store-then-drop"):
                    if reply == "store-then-drop":
                        fake._answer(request)  # stored, but the answer is lost
                    self.close_connection = True
                    self.connection.close()
                    return
                status, headers, answer = reply if reply is not None else fake._answer(request)  # type: ignore[misc]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stops listening (connections are refused) until start() binds the same port again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            # A stopped Herald keeps no kept-alive connection open either.
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                connection.close()
            self._connections.clear()

    def reply(self, *replies: Reply) -> None:
        """Answers the next requests with these, in order, then as Herald would."""
        with self._lock:
            self._replies.extend(replies)

    def _answer(self, request: Request) -> Tuple[int, Dict[str, str], bytes]:
        if request.path != "/v1/events":
            return error(404, "Not Found", "no such route")
        if request.headers.get("Authorization", "") != "Bearer hrd_test_key":
            return error(401, "Unauthorized", "missing or unknown API key")
        if len(request.body) > self.max_body:
            return error(413, "Payload Too Large", "request entity too large")
        events = request.events
        if self.poison is not None and any(self.poison(event) for event in events):
            return error(500, "Internal Server Error", "An unexpected error occurred (reference err_fake)")
        if not 1 <= len(events) <= 1000:
            return error(400, "Bad Request", "Invalid input", [{"field": "events", "reason": "must hold 1 to 1000 events"}])
        problems = [p for index, event in enumerate(events) for p in validate(event, index)]
        if problems:
            return error(400, "Bad Request", "Invalid input", problems)
        results = []
        with self._lock:
            for index, event in enumerate(events):
                duplicate = event["id"] in self._ids
                if not duplicate:
                    self._ids[event["id"]] = len(self.stored)
                    self.stored.append(event)
                results.append({"index": index, "id": event["id"], "duplicate": duplicate, "matched": 0, "deliveries": []})
        return 200, {}, json.dumps({"results": results}).encode()

    def wait_stored(self, count: int, timeout: float = 10.0) -> List[Dict[str, Any]]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.stored) >= count:
                return self.stored
            time.sleep(0.01)
        raise AssertionError(f"expected {count} stored events, got {len(self.stored)}")

    def of_type(self, kind: str) -> List[Dict[str, Any]]:
        return [event for event in self.stored if event["type"] == kind]

    def close(self) -> None:
        self.stop()


def error(status: int, name: str, message: str, details: Optional[List[Dict[str, str]]] = None) -> Tuple[int, Dict[str, str], bytes]:
    body: Dict[str, Any] = {"statusCode": status, "error": name, "message": message}
    if details:
        body["details"] = details
    return status, {}, json.dumps(body).encode()


def validate(event: Dict[str, Any], index: int) -> List[Dict[str, str]]:
    """The checks of src/events/event-validation.ts that a client could get wrong."""
    problems = []

    def bad(field: str, reason: str) -> None:
        problems.append({"field": f"events[{index}].{field}", "reason": reason})

    if event.get("type") not in TYPES:
        bad("type", "unknown type")
    project = event.get("project")
    if not isinstance(project, str) or not 0 < len(project) <= 256:
        bad("project", "must be a string of 1 to 256 characters")
    if "id" in event and not (isinstance(event["id"], str) and CLIENT_ID.match(event["id"])):
        bad("id", "must be 1 to 128 printable ASCII characters without spaces")
    for name, value in (event.get("metrics") or {}).items():
        if not 0 < len(name) <= 256:
            bad(f"metrics[{name[:64]!r}]", "bad name")
        if isinstance(value, bool) or not (isinstance(value, (int, float)) or value in ("NaN", "Infinity", "-Infinity")):
            bad(f"metrics[{name[:64]!r}]", "must be a finite number or NaN/Infinity/-Infinity")
    if "metrics" in event and not 0 < len(event["metrics"]) <= 1000:
        bad("metrics", "1 to 1000 metrics")
    if "step" in event and not (type(event["step"]) is int and 0 <= event["step"] <= 2**53 - 1):
        bad("step", "must be an integer ≥ 0")
    lines = event.get("lines")
    if lines is not None:
        if not 0 < len(lines) <= 1000:
            bad("lines", "1 to 1000 lines")
        for i, line in enumerate(lines):
            if len(line.encode("utf-8")) > 8192:
                bad(f"lines[{i}]", "at most 8 KiB")
    if event.get("type") == "ALERT":
        if event.get("level") not in ("INFO", "WARN", "ERROR"):
            bad("level", "must be INFO, WARN or ERROR")
        if not isinstance(event.get("title"), str) or not 0 < len(event["title"]) <= 1024:
            bad("title", "1 to 1024 characters")
    run = event.get("run")
    if run is not None:
        if not isinstance(run.get("id"), str) or not 0 < len(run["id"]) <= 256:
            bad("run.id", "1 to 256 characters")
        if not isinstance(run.get("name"), str):
            bad("run.name", "required")
    if event.get("type") == "RUN_STATE" and (run or {}).get("state") not in ("RUNNING", "FINISHED", "FAILED", "CRASHED", "KILLED"):
        bad("run.state", "must be a run state")
    return problems
