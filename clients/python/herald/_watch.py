"""``herald.watch``: a run around a plain script's function or block."""

import contextvars
import functools
from types import TracebackType
from typing import Any, Callable, List, Optional, Type, TypeVar

from ._client import Client, default_client
from ._run import Run

F = TypeVar("F", bound=Callable[..., Any])

_current: "contextvars.ContextVar[Optional[Run]]" = contextvars.ContextVar("herald_current_run", default=None)


def current_run() -> Optional[Run]:
    """The run of the innermost ``herald.watch`` being executed, or None."""
    return _current.get()


class watch:
    """Starts a run on entry and reports how the code ended: FINISHED, FAILED (with the
    traceback's last line as the run's log, the exception re-raised) or KILLED on Ctrl-C.

    As a context manager::

        with herald.watch(project="llm-finetune", name="nightly-eval") as run:
            run.log({"acc": evaluate()})

    As a decorator, one run per call (``herald.current_run()`` gives it to the function)::

        @herald.watch(project="llm-finetune")
        def main(): ...
    """

    def __init__(
        self,
        project: Optional[str] = None,
        name: Optional[str] = None,
        run_id: Optional[str] = None,
        *,
        client: Optional[Client] = None,
        author: Optional[str] = None,
        url: Optional[str] = None,
    ) -> None:
        self._args = dict(project=project, name=name, run_id=run_id, author=author, url=url)
        self._client = client
        self._runs: List[Any] = []

    def __enter__(self) -> Run:
        client = self._client or default_client()
        run = client.start_run(**self._args)
        self._runs.append((run, _current.set(run)))
        return run

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        run, token = self._runs.pop()
        _current.reset(token)
        run.__exit__(exc_type, exc, tb)

    def __call__(self, function: F) -> F:
        name = self._args["name"] or getattr(function, "__name__", None)

        @functools.wraps(function)
        def watched(*args: Any, **kwargs: Any) -> Any:
            with watch(**dict(self._args, name=name), client=self._client):
                return function(*args, **kwargs)

        return watched  # type: ignore[return-value]
