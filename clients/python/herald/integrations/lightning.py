"""PyTorch Lightning: ``Trainer(callbacks=[HeraldCallback(project="llm-finetune")])``.

- ``on_fit_start`` starts the run (named after the LightningModule's class unless ``name`` is given).
- Metrics: what ``self.log(...)`` put in ``trainer.callback_metrics``, sent at
  ``trainer.global_step`` every ``log_every_n_steps`` training batches (default: the
  Trainer's own ``log_every_n_steps``) and after each validation (``on_validation_end``, not
  during the sanity check). Each value is sent once: a metric Lightning has not recomputed
  since it was last sent (an epoch-level or validation value still sitting in
  ``callback_metrics``) is not sent again, so metric windows in Herald see each value once.
- ``on_fit_end`` → FINISHED; ``on_exception`` → FAILED with the exception's last line as a
  log line, KILLED on Ctrl-C (Lightning calls ``on_exception`` for KeyboardInterrupt too).
- Only global rank 0 reports.

Lightning is imported when ``HeraldCallback`` is first used, not when ``herald`` is.
"""

from typing import TYPE_CHECKING, Any, Dict, Optional

from ._common import ReportsToHerald, lazy_callback, never_raises


def _build(base: type) -> type:
    class HeraldCallback(ReportsToHerald, base):  # type: ignore[misc]
        def __init__(self, *args: Any, log_every_n_steps: Optional[int] = None, **kwargs: Any) -> None:
            """Takes ``ReportsToHerald``'s arguments, and ``log_every_n_steps`` (default: the Trainer's)."""
            super().__init__(*args, **kwargs)
            self._every = log_every_n_steps
            # The value object last sent for each metric: Lightning replaces it when it recomputes.
            self._sent: Dict[str, Any] = {}

        def _reports(self, trainer: Any) -> bool:
            return bool(getattr(trainer, "is_global_zero", True))

        def _send_fresh(self, trainer: Any) -> None:
            fresh = {}
            for key, value in dict(getattr(trainer, "callback_metrics", None) or {}).items():
                if self._sent.get(key) is value:
                    continue
                self._sent[key] = value
                fresh[key] = value
            self.herald.log(fresh, int(getattr(trainer, "global_step", 0)))

        @never_raises
        def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
            if self._reports(trainer):
                self.herald.start(type(pl_module).__name__)

        @never_raises
        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            if not self._reports(trainer):
                return
            every = self._every or getattr(trainer, "log_every_n_steps", None) or 1
            if int(getattr(trainer, "global_step", 0)) % max(1, int(every)) == 0:
                self._send_fresh(trainer)

        @never_raises
        def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
            if self._reports(trainer) and not getattr(trainer, "sanity_checking", False):
                self._send_fresh(trainer)

        @never_raises
        def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
            if self._reports(trainer):
                self._send_fresh(trainer)
                self.herald.finish("FINISHED")

        @never_raises
        def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
            if self._reports(trainer):
                self.herald.fail(exception)

    return HeraldCallback


if TYPE_CHECKING:
    HeraldCallback: Any


__getattr__ = lazy_callback(globals(), _build, ("lightning.pytorch.callbacks", "Callback"), ("pytorch_lightning.callbacks", "Callback"))
