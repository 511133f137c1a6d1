"""What Herald's ``POST /v1/events`` accepts (``src/events/event-validation.ts``).

The client shapes every event to fit these, so the server never refuses one of its batches:
a refused batch is refused whole.
"""

MAX_BATCH = 1000
"""Events in one request."""
MAX_BODY_BYTES = 8 * 1024 * 1024
"""Herald's body limit for ``POST /v1/events`` (413 above it)."""
MAX_METRICS = 1000
"""Metrics in one RUN_METRICS event."""
MAX_LOG_LINES = 1000
"""Lines in one RUN_LOG event."""
MAX_LOG_LINE_BYTES = 8 * 1024
"""One log line, in UTF-8."""
MAX_ALERT_TITLE_CHARS = 1024
MAX_ALERT_TEXT_BYTES = 64 * 1024
MAX_ID_CHARS = 128
"""Event ids: 1 to 128 printable ASCII characters without spaces."""
MAX_NAME_CHARS = 256
"""Projects, authors, run ids, metric names, artifact fields, aliases and tags."""
MAX_RUN_NAME_CHARS = 128 * 1024
MAX_URL_CHARS = 2048
MAX_ARTIFACT_LABELS = 100
MAX_RUN_TAGS = 100
"""A run's ``tags``."""
MAX_RUN_CONFIG_BYTES = 64 * 1024
"""A run's ``config`` as JSON text, in UTF-8."""
MAX_METADATA_DEPTH = 32
MAX_SAFE_INTEGER = 2**53 - 1
"""Steps are JavaScript safe integers."""

RUN_STATES = ("RUNNING", "FINISHED", "FAILED", "CRASHED", "KILLED")
ALERT_LEVELS = ("INFO", "WARN", "ERROR")
ARTIFACT_EVENT_TYPES = (
    "CREATE_ARTIFACT",
    "LINK_ARTIFACT",
    "UNLINK_ARTIFACT",
    "ADD_ARTIFACT_ALIAS",
    "REMOVE_ARTIFACT_ALIAS",
    "ADD_ARTIFACT_TAG",
    "REMOVE_ARTIFACT_TAG",
)
