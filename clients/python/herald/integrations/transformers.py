"""Hugging Face Transformers: ``Trainer(..., callbacks=[HeraldCallback(project="llm-finetune")])``.

- ``on_train_begin`` starts the run (named ``args.run_name``, else the output directory's name).
- ``on_log`` sends the numeric entries of ``logs`` (``loss``, ``learning_rate``,
  ``eval_loss``…, names as the Trainer writes them) at ``state.global_step``;
  ``on_evaluate`` sends the evaluation metrics the Trainer did not already pass to ``on_log``
  at that step (``Trainer.evaluate`` logs them first), so each value is sent once.
- ``on_train_end`` → FINISHED. The Trainer has no hook for an exception: a run whose training
  raised is ended when the process exits (FAILED with the exception's last line, see
  ``herald.Client``), or wrap ``trainer.train()`` in ``with run:`` / ``herald.watch``.
- Only the world process zero reports (``state.is_world_process_zero``).

Transformers is imported when ``HeraldCallback`` is first used, not when ``herald`` is.
"""

import os
from typing import TYPE_CHECKING, Any, Dict, Optional, Set, Tuple

from ._common import ReportsToHerald, lazy_callback, never_raises, numeric


def _build(base: type) -> type:
    class HeraldCallback(ReportsToHerald, base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # (step, metric) pairs sent by on_log at the latest step, so on_evaluate skips them.
            self._logged: Set[Tuple[int, str]] = set()

        @staticmethod
        def _reports(state: Any) -> bool:
            return bool(getattr(state, "is_world_process_zero", True))

        def _send(self, state: Any, metrics: Dict[str, Any], unless_logged: bool) -> None:
            step = int(getattr(state, "global_step", 0) or 0)
            if self._logged and next(iter(self._logged))[0] != step:
                self._logged.clear()
            if unless_logged:
                metrics = {key: value for key, value in metrics.items() if (step, key) not in self._logged}
            self._logged.update((step, key) for key in metrics)
            self.herald.log(metrics, step)

        @never_raises
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self._reports(state):
                default = getattr(args, "run_name", None) or os.path.basename(os.path.normpath(str(getattr(args, "output_dir", "") or ""))) or None
                self.herald.start(default)

        @never_raises
        def on_log(self, args: Any, state: Any, control: Any, logs: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
            if self._reports(state):
                self._send(state, numeric(logs), unless_logged=False)

        @never_raises
        def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
            if self._reports(state):
                self._send(state, numeric(metrics), unless_logged=True)

        @never_raises
        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self._reports(state):
                self.herald.finish("FINISHED")

    return HeraldCallback


if TYPE_CHECKING:
    HeraldCallback: Any


__getattr__ = lazy_callback(globals(), _build, ("transformers", "TrainerCallback"))
