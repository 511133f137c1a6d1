"""Shaping user input into events Herald accepts (see ``_limits``), without ever raising.

Every function here takes what training code hands over — floats, numpy or torch scalars,
nested dicts, long strings — and returns what fits the server's rules, dropping (and
reporting once) what cannot be sent.
"""

import json
import logging
import math
import os
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _limits as L
from ._log import OnceLog

MetricValue = Union[int, float, str]
"""A metric as sent: a finite number or ``"NaN"``, ``"Infinity"``, ``"-Infinity"``."""

_NON_FINITE_SPELLINGS = frozenset(("NaN", "Infinity", "-Infinity"))
_RUN_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class _Skip:
    """Marks a value that cannot be sent as a metric."""


SKIP = _Skip()


def non_finite(value: float) -> str:
    """The spelling Herald takes for a float that JSON cannot carry."""
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def metric_value(value: Any) -> Union[MetricValue, _Skip]:
    """A number (or numpy/torch scalar, anything with ``__float__``) as Herald takes it."""
    kind = type(value)
    if kind is float:
        return float(value) if value - value == 0.0 else non_finite(value)
    if kind is int:
        if -L.MAX_SAFE_INTEGER <= value <= L.MAX_SAFE_INTEGER:
            return int(value)
        try:
            return float(value)
        except OverflowError:
            return "Infinity" if value > 0 else "-Infinity"
    if kind is bool:
        return int(value)
    if kind is str:
        return value if value in _NON_FINITE_SPELLINGS else SKIP
    if isinstance(value, (bytes, bytearray, Mapping)) or value is None:
        return SKIP
    try:
        # numpy scalars, 0-d arrays, single-element torch tensors (float() waits for a GPU).
        number = float(value)
    except Exception:
        return SKIP
    return number if number - number == 0.0 else non_finite(number)


def clean_metrics(metrics: Mapping[str, Any], warn: OnceLog) -> List[Dict[str, MetricValue]]:
    """The metrics Herald can take, in chunks of at most 1000; nested mappings become ``a/b``."""
    out: Dict[str, MetricValue] = {}
    for name, value in metrics.items():
        kind = type(value)
        if type(name) is str and 0 < len(name) <= L.MAX_NAME_CHARS and (kind is float or kind is int):
            # The common case, kept cheap: a plain name and a Python number.
            if kind is float and value - value != 0.0:
                out[name] = non_finite(value)
            elif kind is int and not -L.MAX_SAFE_INTEGER <= value <= L.MAX_SAFE_INTEGER:
                out[name] = metric_value(value)  # type: ignore[assignment]
            else:
                out[name] = value
        else:
            _add_metric(out, name, value, warn, 0)
    if len(out) <= L.MAX_METRICS:
        return [out] if out else []
    items = list(out.items())
    return [dict(items[i : i + L.MAX_METRICS]) for i in range(0, len(items), L.MAX_METRICS)]


def _add_metric(out: Dict[str, MetricValue], name: Any, value: Any, warn: OnceLog, depth: int) -> None:
    name = name if isinstance(name, str) else str(name)
    if isinstance(value, Mapping) and depth < L.MAX_METADATA_DEPTH:
        for key, inner in value.items():
            _add_metric(out, f"{name}/{key}", inner, warn, depth + 1)
        return
    if not 0 < len(name) <= L.MAX_NAME_CHARS:
        warn(
            f"metric-name:{name[:64]}",
            logging.WARNING,
            "Herald: metric name %r is not sent: names are 1 to %d characters",
            name[:64],
            L.MAX_NAME_CHARS,
        )
        return
    number = metric_value(value)
    if number is SKIP:
        warn(
            f"metric-value:{name[:64]}",
            logging.WARNING,
            "Herald: metric %r is not sent: its value (%s) is not a number",
            name[:64],
            type(value).__name__,
        )
        return
    out[name] = number  # type: ignore[assignment]


def clean_step(step: Any, warn: OnceLog) -> Optional[int]:
    """A step as Herald takes it (an integer from 0 to 2**53 - 1), or None to leave it out."""
    if type(step) is int and 0 <= step <= L.MAX_SAFE_INTEGER:
        return step
    try:
        number = float(step)
        if number.is_integer() and 0 <= number <= L.MAX_SAFE_INTEGER:
            return int(number)
    except Exception:
        pass
    warn("step", logging.WARNING, "Herald: step %r is left out: steps are integers from 0 to 2**53 - 1", step)
    return None


def clip_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, on a character boundary."""
    if len(text) * 4 <= max_bytes:
        return text
    encoded = text.encode("utf-8", "replace")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", "ignore")


def clean_lines(lines: Union[str, Iterable[Any]], max_event_bytes: int) -> List[List[str]]:
    """Lines cut to 8 KiB each, grouped into RUN_LOG-sized chunks (1000 lines, ``max_event_bytes``)."""
    if isinstance(lines, str):
        lines = lines.splitlines() or [lines]
    chunks: List[List[str]] = []
    chunk: List[str] = []
    size = 0
    for raw in lines:
        line = clip_utf8(raw if isinstance(raw, str) else str(raw), L.MAX_LOG_LINE_BYTES)
        cost = len(line) * 4 if len(line) * 4 <= L.MAX_LOG_LINE_BYTES else len(line.encode("utf-8"))
        if chunk and (len(chunk) >= L.MAX_LOG_LINES or size + cost > max_event_bytes):
            chunks.append(chunk)
            chunk, size = [], 0
        chunk.append(line)
        size += cost + 3
    if chunk:
        chunks.append(chunk)
    return chunks


def clean_level(level: Any, warn: OnceLog) -> str:
    """INFO, WARN or ERROR; also takes ``warning``/``error``/``info`` in any case and enums with ``value``."""
    text = getattr(level, "value", level)
    text = str(text).upper() if text is not None else "INFO"
    if text == "WARNING":
        text = "WARN"
    if text in L.ALERT_LEVELS:
        return text
    warn(f"level:{text[:32]}", logging.WARNING, "Herald: alert level %r is not INFO, WARN or ERROR: sent as WARN", text[:32])
    return "WARN"


def clean_title(title: Any) -> str:
    text = title if isinstance(title, str) else str(title)
    return text[: L.MAX_ALERT_TITLE_CHARS] if text else "(untitled alert)"


def valid_name(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= L.MAX_NAME_CHARS


def clean_url(url: Any, warn: OnceLog) -> Optional[str]:
    if url is None:
        return None
    if isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) <= L.MAX_URL_CHARS:
        return url
    warn("run-url", logging.WARNING, "Herald: a run url must be an http(s) URL of at most %d characters; left out", L.MAX_URL_CHARS)
    return None


def run_context(group: Any, tags: Any, config: Any, warn: OnceLog) -> Dict[str, Any]:
    """The run's group, tags and config as Herald keeps them; a part that does not fit is left
    out with a warning (the run is still reported)."""
    context: Dict[str, Any] = {}
    if group is not None:
        if valid_name(group):
            context["group"] = group
        else:
            warn("run-group", logging.WARNING, "Herald: a run group is a string of 1 to %d characters; left out", L.MAX_NAME_CHARS)
    if tags is not None:
        listed = list(tags) if isinstance(tags, (list, tuple, set, frozenset)) else None
        if listed is not None and len(listed) <= L.MAX_RUN_TAGS and all(valid_name(t) for t in listed):
            context["tags"] = sorted(listed) if isinstance(tags, (set, frozenset)) else listed
        else:
            warn("run-tags", logging.WARNING, "Herald: run tags are a list of at most %d strings of 1 to %d characters; left out", L.MAX_RUN_TAGS, L.MAX_NAME_CHARS)
    if config is not None:
        text = _config_text(config)
        if text is not None and len(text.encode("utf-8")) <= L.MAX_RUN_CONFIG_BYTES:
            context["config"] = json.loads(text)
        else:
            warn("run-config", logging.WARNING, "Herald: a run config is a mapping of finite JSON values of at most %d bytes; left out", L.MAX_RUN_CONFIG_BYTES)
    return context


def _config_text(config: Any) -> Optional[str]:
    """A mapping as JSON text: numbers through ``float()`` (numpy scalars, one-element tensors),
    other objects as ``str()``; None when it is not a mapping or holds NaN or infinity."""
    if not isinstance(config, Mapping):
        return None

    def plain(value: Any) -> Any:
        if hasattr(value, "__float__"):
            try:
                return float(value)
            except (TypeError, ValueError):
                pass
        return str(value)

    try:
        return json.dumps(dict(config), default=plain, allow_nan=False)
    except (TypeError, ValueError):
        return None


def clean_author(author: Any, warn: OnceLog) -> Optional[str]:
    if author is None:
        author = os.environ.get("HERALD_AUTHOR") or None
        if author is None:
            return None
    if isinstance(author, str) and len(author) <= L.MAX_NAME_CHARS:
        return author
    warn("author", logging.WARNING, "Herald: author must be a string of at most %d characters; left out", L.MAX_NAME_CHARS)
    return None


def new_run_id() -> str:
    """Eight random lowercase letters and digits, like a W&B run id."""
    return "".join(_RUN_ID_ALPHABET[b % 36] for b in os.urandom(8))


def json_safe(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` Herald accepts as artifact metadata (finite numbers, strings, lists, objects)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value if -L.MAX_SAFE_INTEGER <= value <= L.MAX_SAFE_INTEGER else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else non_finite(value)
    if depth >= L.MAX_METADATA_DEPTH - 1:
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items() if str(k) != "__proto__"}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, depth + 1) for v in value]
    number = metric_value(value)
    return str(value) if number is SKIP else number


def clean_artifact(artifact: Any, warn: OnceLog) -> Optional[Dict[str, Any]]:
    """The ``artifact`` object of an artifact event, or None (reported) when it cannot be sent."""
    if not isinstance(artifact, Mapping):
        warn("artifact-shape", logging.ERROR, "Herald: artifact must be a dict with name, version and collection; event not sent")
        return None
    out: Dict[str, Any] = {}
    for key in ("name", "version", "collection", "id", "type"):
        value = artifact.get(key)
        if value is None:
            continue
        if not valid_name(value):
            warn(f"artifact-{key}", logging.ERROR, "Herald: artifact %s must be a string of 1 to %d characters; event not sent", key, L.MAX_NAME_CHARS)
            return None
        out[key] = value
    for key in ("name", "version", "collection"):
        if key not in out:
            warn(f"artifact-missing-{key}", logging.ERROR, "Herald: artifact %s is required; event not sent", key)
            return None
    if artifact.get("metadata") is not None:
        metadata = artifact["metadata"]
        if not isinstance(metadata, Mapping):
            warn("artifact-metadata", logging.ERROR, "Herald: artifact metadata must be a dict; event not sent")
            return None
        out["metadata"] = json_safe(metadata, 1)
    for key in ("aliases", "tags"):
        labels = artifact.get(key)
        if labels is None:
            continue
        if isinstance(labels, str) or not all(valid_name(label) for label in labels) or len(list(labels)) > L.MAX_ARTIFACT_LABELS:
            warn(f"artifact-{key}", logging.ERROR, "Herald: artifact %s must be a list of at most %d names; event not sent", key, L.MAX_ARTIFACT_LABELS)
            return None
        out[key] = list(labels)
    unknown = set(artifact) - {"name", "version", "collection", "id", "type", "metadata", "aliases", "tags"}
    if unknown:
        warn("artifact-unknown", logging.WARNING, "Herald: artifact fields %s are not part of an artifact event; left out", sorted(map(str, unknown)))
    return out


_second: Tuple[int, str] = (-1, "")


def format_time(epoch_seconds: float) -> str:
    """ISO-8601 UTC with milliseconds, as Herald stores ``occurredAt``."""
    global _second
    whole = int(epoch_seconds)
    second = _second
    if second[0] != whole:
        # Formatting the date part once a second: the sender stamps thousands of events a second.
        second = _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return "%s.%03dZ" % (second[1], int((epoch_seconds - whole) * 1000))
