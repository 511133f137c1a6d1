"""Keras: ``model.fit(..., callbacks=[HeraldCallback(project="llm-finetune")])``.

- ``on_train_begin`` starts the run (named after ``model.name`` unless ``name`` is given).
- ``on_epoch_end`` sends the epoch's ``logs`` (``loss``, ``val_loss``, ``accuracy``…, names as
  Keras writes them) at step = epochs completed (1, 2, …).
- ``log_every_n_batches=N`` also sends the batch ``logs`` every N training batches, as
  ``batch/loss``… at step = batches completed. Off by default: a callback that overrides
  ``on_train_batch_end`` makes Keras 3 give up dispatching batch-end hooks asynchronously.
- ``on_train_end`` → FINISHED. Keras has no hook for an exception: a run whose ``fit`` raised
  is ended when the process exits (FAILED with the exception's last line, see
  ``herald.Client``), or wrap ``model.fit`` in ``with run:`` / ``herald.watch``.

Keras (``keras``, else ``tensorflow.keras``) is imported when ``HeraldCallback`` is first
used, not when ``herald`` is.
"""

from typing import TYPE_CHECKING, Any, Dict, Optional

from ._common import ReportsToHerald, lazy_callback, never_raises, numeric


def _build(base: type) -> type:
    class HeraldCallback(ReportsToHerald, base):  # type: ignore[misc]
        def __init__(self, *args: Any, log_every_n_batches: Optional[int] = None, **kwargs: Any) -> None:
            """Takes ``ReportsToHerald``'s arguments, and ``log_every_n_batches`` (default: epochs only)."""
            super().__init__(*args, **kwargs)
            self._every = log_every_n_batches
            self._batches = 0
            if log_every_n_batches:
                # Only then: the base class's default hook lets Keras 3 dispatch batch ends asynchronously.
                self.on_train_batch_end = self._log_batch

        @never_raises
        def on_train_begin(self, logs: Optional[Dict[str, Any]] = None) -> None:
            model = getattr(self, "model", None)
            self.herald.start(getattr(model, "name", None))

        @never_raises
        def _log_batch(self, batch: int, logs: Optional[Dict[str, Any]] = None) -> None:
            self._batches += 1
            if self._batches % int(self._every or 1) == 0:
                self.herald.log({f"batch/{key}": value for key, value in numeric(logs).items()}, self._batches)

        @never_raises
        def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
            self.herald.log(numeric(logs), int(epoch) + 1)

        @never_raises
        def on_train_end(self, logs: Optional[Dict[str, Any]] = None) -> None:
            self.herald.finish("FINISHED")

    return HeraldCallback


if TYPE_CHECKING:
    HeraldCallback: Any


__getattr__ = lazy_callback(globals(), _build, ("keras.callbacks", "Callback"), ("tensorflow.keras.callbacks", "Callback"))
