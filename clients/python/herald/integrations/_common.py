"""What the framework callbacks share: finding the framework's base class, owning a run, and
making sure a hook never raises into the framework's training loop."""

import functools
import importlib
import logging
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, TypeVar

from .._client import Client, default_client
from .._log import OnceLog
from .._run import Run

F = TypeVar("F", bound=Callable[..., Any])

_warn = OnceLog()


class FallbackCallback:
    """The base used when the framework is not installed: every ``on_*`` hook (and Lightning's
    ``setup``/``teardown``/``state_dict`` family) exists and does nothing, as in the frameworks'
    own base classes. With the framework installed, its real base class is used instead."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("on_") or name in ("setup", "teardown", "load_state_dict"):
            return _noop
        if name == "state_dict":
            return dict
        raise AttributeError(name)

    @property
    def state_key(self) -> str:
        return type(self).__qualname__

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: Any) -> None:
        self.params = params


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


def framework_base(*candidates: Tuple[str, str]) -> type:
    """The first ``(module, class)`` that imports, else FallbackCallback."""
    for module_name, class_name in candidates:
        try:
            module = importlib.import_module(module_name)
            return getattr(module, class_name)  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    return FallbackCallback


def never_raises(hook: F) -> F:
    """A hook that logs (once per hook and error type) instead of raising into the training loop."""

    name = hook.__qualname__.split("<locals>.")[-1]

    @functools.wraps(hook)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return hook(*args, **kwargs)
        except Exception as error:
            _warn(
                f"{name}:{type(error).__name__}",
                logging.ERROR,
                "Herald: %s failed (%s: %s); training goes on",
                name,
                type(error).__name__,
                error,
            )
            return None

    return guarded  # type: ignore[return-value]


class RunOwner:
    """The run a callback reports to: the one given, or one it starts when training starts."""

    def __init__(
        self,
        project: Optional[str],
        name: Optional[str],
        run_id: Optional[str],
        run: Optional[Run],
        client: Optional[Client],
        author: Optional[str],
        url: Optional[str],
    ) -> None:
        self.run = run
        self._start = dict(project=project, name=name, run_id=run_id, author=author, url=url)
        self._client = client

    def start(self, default_name: Optional[str]) -> Run:
        if self.run is None:
            args = dict(self._start)
            if args["name"] is None:
                args["name"] = default_name
            self.run = (self._client or default_client()).start_run(**args)
        return self.run

    def log(self, metrics: Mapping[str, Any], step: Optional[int]) -> None:
        if self.run is not None and metrics:
            self.run.log(metrics, step=step)

    def finish(self, state: str) -> None:
        if self.run is not None:
            self.run.finish(state)

    def fail(self, exception: BaseException) -> None:
        """FAILED with the exception's last line as a log (KILLED for Ctrl-C)."""
        if self.run is not None:
            self.run._end_with(type(exception), exception)


class ReportsToHerald:
    """What every HeraldCallback has besides its hooks (mixed in before the framework's base).

    ``project``, ``name``, ``run_id``, ``author`` and ``url`` start the run when training
    starts (see ``Client.start_run``); or ``run`` is an existing run to report to. ``client``
    defaults to ``herald.default_client()``.
    """

    def __init__(
        self,
        project: Optional[str] = None,
        name: Optional[str] = None,
        run_id: Optional[str] = None,
        *,
        run: Optional[Run] = None,
        client: Optional[Client] = None,
        author: Optional[str] = None,
        url: Optional[str] = None,
    ) -> None:
        super().__init__()  # the framework's base class
        self.herald = RunOwner(project, name, run_id, run, client, author, url)

    @property
    def run(self) -> Optional[Run]:
        """The run this callback reports to (None until training starts, unless one was given)."""
        return self.herald.run


def lazy_callback(namespace: Dict[str, Any], build: Callable[[type], type], *candidates: Tuple[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) that builds ``HeraldCallback`` on first use, over the
    first framework base class in ``candidates`` that imports, and keeps it in the module."""

    def module_getattr(name: str) -> Any:
        if name == "HeraldCallback":
            callback = build(framework_base(*candidates))
            namespace["HeraldCallback"] = callback
            return callback
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")

    return module_getattr


def numeric(logs: Optional[Mapping[str, Any]], skip: Tuple[str, ...] = ()) -> Dict[str, Any]:
    """The entries of a framework's logs dict that are numbers (or scalar tensors)."""
    out: Dict[str, Any] = {}
    for key, value in (logs or {}).items():
        if key in skip or isinstance(value, (str, bytes)) or value is None:
            continue
        out[str(key)] = value
    return out
