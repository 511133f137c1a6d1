"""The framework callbacks, driven as each framework drives them.

Lightning, Transformers and Keras cannot be installed here, so each test is a small driver
that calls the hooks with the framework's documented signatures, in the order its training
loop does (sources cited per driver). Base classes stand in for the frameworks' own ones the
same way: a module registered under the framework's import path with the documented no-op
hooks, so the tests also check that ``HeraldCallback`` subclasses the real base when the
framework is importable, and that importing ``herald`` imports no framework.
"""

import importlib
import subprocess
import sys
import types
import unittest
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List

from herald.integrations import _common

from .support import ClientTest


class Scalar:
    """A one-element tensor: a new object each time the framework computes a value."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __float__(self) -> float:
        return self.value


@contextmanager
def framework_module(path: str, **attributes: Any) -> Iterator[types.ModuleType]:
    """Registers ``path`` (and its parents) in sys.modules for the duration of the block."""
    names = path.split(".")
    added: List[str] = []
    for i in range(1, len(names) + 1):
        name = ".".join(names[:i])
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
            added.append(name)
    module = sys.modules[path]
    for key, value in attributes.items():
        setattr(module, key, value)
    try:
        yield module
    finally:
        for name in added:
            sys.modules.pop(name, None)


def fresh(integration: str) -> types.ModuleType:
    """The integration module re-imported, so HeraldCallback is built against the current base."""
    name = f"herald.integrations.{integration}"
    sys.modules.pop(name, None)
    return importlib.import_module(name)


class Imports(unittest.TestCase):
    def test_importing_herald_and_its_integrations_imports_no_framework(self) -> None:
        code = (
            "import sys, herald, herald.integrations.lightning, herald.integrations.transformers, herald.integrations.keras\n"
            "print(sorted(m for m in ('torch', 'lightning', 'pytorch_lightning', 'transformers', 'keras', 'tensorflow') if m in sys.modules))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": _package_root()})
        self.assertEqual(out.stdout.strip(), "[]", out.stderr)

    def test_without_the_framework_the_callbacks_still_build(self) -> None:
        for integration in ("lightning", "transformers", "keras"):
            with self.subTest(integration=integration):
                callback = fresh(integration).HeraldCallback
                self.assertTrue(issubclass(callback, _common.FallbackCallback))


def _package_root() -> str:
    import os

    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------------------------------------
# PyTorch Lightning
#
# Hook signatures: https://lightning.ai/docs/pytorch/stable/api/lightning.pytorch.callbacks.Callback.html
#   setup(trainer, pl_module, stage), on_fit_start(trainer, pl_module),
#   on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx),
#   on_validation_end(trainer, pl_module), on_fit_end(trainer, pl_module),
#   on_exception(trainer, pl_module, exception), state_dict(), state_key.
# How they are called: src/lightning/pytorch/trainer/call.py — `_call_callback_hooks` does
#   `fn = getattr(callback, hook_name); if callable(fn): fn(trainer, trainer.lightning_module, *args, **kwargs)`;
#   `_call_and_handle_interrupt` → `_interrupt` calls `on_exception` for KeyboardInterrupt and
#   every other exception; `_call_callbacks_state_dict` reads `callback.state_dict()`/`state_key`.
# trainer.callback_metrics: what `self.log(...)` produced, one tensor per name, replaced when
# Lightning recomputes it (docs: "Logging" › callback_metrics).


class LightningCallbackBase:
    """lightning.pytorch.callbacks.Callback as documented: every hook a no-op."""

    @property
    def state_key(self) -> str:
        return self.__class__.__qualname__

    def state_dict(self) -> Dict[str, Any]:
        return {}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("on_") or name in ("setup", "teardown"):
            return lambda *args, **kwargs: None
        raise AttributeError(name)


class LightningModule:
    pass


class BertClassifier(LightningModule):
    pass


class LightningDriver:
    def __init__(self, callbacks: List[Any], log_every_n_steps: int = 2) -> None:
        self.trainer = SimpleNamespace(
            callbacks=callbacks,
            lightning_module=BertClassifier(),
            callback_metrics={},
            global_step=0,
            log_every_n_steps=log_every_n_steps,
            sanity_checking=False,
            is_global_zero=True,
        )

    def hook(self, name: str, *args: Any, **kwargs: Any) -> None:
        for callback in self.trainer.callbacks:
            fn = getattr(callback, name)
            if callable(fn):
                fn(self.trainer, self.trainer.lightning_module, *args, **kwargs)

    def validate(self, loss: float, sanity: bool = False) -> None:
        self.trainer.sanity_checking = sanity
        self.hook("on_validation_start")
        self.hook("on_validation_epoch_start")
        self.hook("on_validation_batch_start", None, 0, 0)
        self.hook("on_validation_batch_end", None, None, 0, 0)
        self.hook("on_validation_epoch_end")
        self.trainer.callback_metrics["val_loss"] = Scalar(loss)  # computed at epoch end
        self.hook("on_validation_end")
        self.trainer.sanity_checking = False

    def fit(self, epochs: int, batches: int, fail_at: Any = None) -> None:
        try:
            self.hook("setup", stage="fit")
            self.hook("on_fit_start")
            self.hook("on_sanity_check_start")
            self.validate(9.9, sanity=True)
            self.hook("on_sanity_check_end")
            self.trainer.callback_metrics.clear()  # Lightning resets the sanity check's results
            self.hook("on_train_start")
            for epoch in range(epochs):
                self.hook("on_train_epoch_start")
                for index in range(batches):
                    self.hook("on_train_batch_start", None, index)
                    if fail_at == (epoch, index):
                        raise fail_at_error[0]
                    self.trainer.callback_metrics["train_loss"] = Scalar(1.0 / (self.trainer.global_step + 1))
                    self.trainer.global_step += 1
                    self.hook("on_train_batch_end", {"loss": Scalar(0.5)}, None, index)
                self.validate(0.5 - 0.1 * epoch)
                self.hook("on_train_epoch_end")
            self.hook("on_train_end")
            self.hook("on_fit_end")
            self.hook("teardown", stage="fit")
        except BaseException as exception:  # lightning's _interrupt
            self.hook("on_exception", exception)
            raise
        finally:
            for callback in self.trainer.callbacks:
                assert isinstance(callback.state_key, str) and callback.state_dict() == {}


fail_at_error: List[BaseException] = []


class Lightning(ClientTest):
    def callback_class(self) -> Any:
        with framework_module("lightning.pytorch.callbacks", Callback=LightningCallbackBase):
            callback = fresh("lightning").HeraldCallback
        self.assertTrue(issubclass(callback, LightningCallbackBase), "subclasses Lightning's Callback when it imports")
        return callback

    def test_a_fit_reports_fresh_metrics_with_the_step_and_finishes(self) -> None:
        client = self.client()
        driver = LightningDriver([self.callback_class()(project="p", client=client)])
        driver.fit(epochs=2, batches=4)
        self.assertTrue(client.flush(5))
        stored = self.fake.stored
        self.assertEqual(stored[0]["run"]["name"], "BertClassifier")
        sent = [(e["step"], sorted(e["metrics"].items())) for e in stored if e["type"] == "RUN_METRICS"]
        self.assertEqual(
            sent,
            [
                (2, [("train_loss", 0.5)]),
                (4, [("train_loss", 0.25)]),
                (4, [("val_loss", 0.5)]),  # not the sanity check's 9.9
                (6, [("train_loss", 1 / 6)]),
                (8, [("train_loss", 0.125)]),
                (8, [("val_loss", 0.4)]),
            ],
        )
        self.assertEqual(stored[-1]["run"]["state"], "FINISHED")

    def test_an_exception_or_ctrl_c_ends_the_run(self) -> None:
        client = self.client()
        callback = self.callback_class()
        for error, state in ((RuntimeError("CUDA out of memory"), "FAILED"), (KeyboardInterrupt(), "KILLED")):
            fail_at_error[:] = [error]
            with self.assertRaises(type(error)):
                LightningDriver([callback(project="p", name=state.lower(), client=client)]).fit(epochs=2, batches=4, fail_at=(1, 2))
        self.assertTrue(client.flush(5))
        ends = [(e["run"]["name"], e["run"]["state"]) for e in self.fake.of_type("RUN_STATE") if e["run"]["state"] != "RUNNING"]
        self.assertEqual(ends, [("failed", "FAILED"), ("killed", "KILLED")])
        self.assertEqual(self.fake.of_type("RUN_LOG")[0]["lines"], ["RuntimeError: CUDA out of memory"])

    def test_only_global_rank_zero_reports(self) -> None:
        client = self.client()
        driver = LightningDriver([self.callback_class()(project="p", client=client)])
        driver.trainer.is_global_zero = False
        driver.fit(epochs=1, batches=2)
        self.assertTrue(client.flush(2))
        self.assertEqual(self.fake.requests, [])

    def test_a_hook_never_raises_into_the_trainer(self) -> None:
        client = self.client()
        driver = LightningDriver([self.callback_class()(project="p", client=client)])
        driver.trainer.callback_metrics = None  # not what Lightning holds: the hook must cope
        driver.trainer.global_step = "broken"
        driver.hook("on_fit_start")
        driver.hook("on_train_batch_end", None, None, 0)
        driver.hook("on_fit_end")
        self.assertTrue(client.flush(2))
        self.assertTrue(any("on_train_batch_end failed" in m for m in self.logs.messages()))


# ---------------------------------------------------------------------------------------------
# Hugging Face Transformers
#
# Hook signatures: https://huggingface.co/docs/transformers/main_classes/callback —
#   "The argument args, state and control are positionals for all events, all the others are
#   grouped in kwargs": on_train_begin(args, state, control, **kwargs),
#   on_log(args, state, control, logs=None, **kwargs), on_evaluate(args, state, control,
#   metrics, **kwargs), on_train_end(args, state, control, **kwargs).
# How they are called: src/transformers/trainer_callback.py — `CallbackHandler.call_event`
#   calls `getattr(callback, event)(args, state, control, model=…, processing_class=…,
#   optimizer=…, lr_scheduler=…, train_dataloader=…, eval_dataloader=…, **kwargs)` for every
#   event on every callback (so every event must exist: the base class's are no-ops).
# Trainer.evaluate logs its metrics (on_log, with "epoch" added) and then calls on_evaluate
# with the same dict (src/transformers/trainer.py, `evaluate`).


class TrainerCallbackBase:
    """transformers.TrainerCallback as documented: every event a no-op."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("on_"):
            return lambda *args, **kwargs: None
        raise AttributeError(name)


EVENTS_PER_STEP = ("on_step_begin", "on_substep_end", "on_pre_optimizer_step", "on_optimizer_step", "on_step_end")


class TransformersDriver:
    def __init__(self, callbacks: List[Any]) -> None:
        self.callbacks = callbacks
        self.args = SimpleNamespace(run_name=None, output_dir="/tmp/out/bert-base-finetuned", logging_steps=2)
        self.state = SimpleNamespace(global_step=0, epoch=0.0, is_world_process_zero=True, log_history=[])
        self.control = SimpleNamespace(should_log=False, should_evaluate=False)

    def event(self, name: str, **kwargs: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, name)(
                self.args,
                self.state,
                self.control,
                model=None,
                processing_class=None,
                optimizer=None,
                lr_scheduler=None,
                train_dataloader=None,
                eval_dataloader=None,
                **kwargs,
            )

    def log(self, logs: Dict[str, Any]) -> None:
        logs["epoch"] = self.state.epoch
        self.state.log_history.append({**logs, "step": self.state.global_step})
        self.event("on_log", logs=logs)

    def train(self, steps: int) -> None:
        self.event("on_init_end")
        self.event("on_train_begin")
        self.event("on_epoch_begin")
        for _ in range(steps):
            for name in EVENTS_PER_STEP:
                self.event(name)
            self.state.global_step += 1
            self.state.epoch = self.state.global_step / steps
            if self.state.global_step % self.args.logging_steps == 0:
                self.log({"loss": 1.0 / self.state.global_step, "grad_norm": 2.5, "learning_rate": 3e-4})
        metrics = {"eval_loss": 0.31, "eval_accuracy": 0.9, "eval_runtime": 1.5}
        self.log(metrics)
        self.event("on_evaluate", metrics=metrics)
        self.event("on_save")
        self.event("on_epoch_end")
        self.log({"train_runtime": 12.0, "train_loss": 0.4, "total_flos": 1.0e12})
        self.event("on_train_end")


class Transformers(ClientTest):
    def callback_class(self) -> Any:
        with framework_module("transformers", TrainerCallback=TrainerCallbackBase):
            callback = fresh("transformers").HeraldCallback
        self.assertTrue(issubclass(callback, TrainerCallbackBase))
        return callback

    def test_a_training_reports_each_logged_value_once_and_finishes(self) -> None:
        client = self.client()
        TransformersDriver([self.callback_class()(project="p", client=client)]).train(steps=4)
        self.assertTrue(client.flush(5))
        stored = self.fake.stored
        self.assertEqual(stored[0]["run"]["name"], "bert-base-finetuned")
        sent = [(e["step"], e["metrics"]) for e in stored if e["type"] == "RUN_METRICS"]
        self.assertEqual(
            sent,
            [
                (2, {"loss": 0.5, "grad_norm": 2.5, "learning_rate": 3e-4, "epoch": 0.5}),
                (4, {"loss": 0.25, "grad_norm": 2.5, "learning_rate": 3e-4, "epoch": 1.0}),
                (4, {"eval_loss": 0.31, "eval_accuracy": 0.9, "eval_runtime": 1.5, "epoch": 1.0}),  # once, by on_log
                (4, {"train_runtime": 12.0, "train_loss": 0.4, "total_flos": 1.0e12, "epoch": 1.0}),
            ],
        )
        self.assertEqual(stored[-1]["run"]["state"], "FINISHED")

    def test_on_evaluate_alone_still_sends_its_metrics(self) -> None:
        client = self.client()
        driver = TransformersDriver([self.callback_class()(project="p", name="eval-only", client=client)])
        driver.event("on_train_begin")
        driver.state.global_step = 10
        driver.event("on_evaluate", metrics={"eval_loss": 0.2})
        self.assertTrue(client.flush(5))
        self.assertEqual(self.fake.of_type("RUN_METRICS")[0]["metrics"], {"eval_loss": 0.2})

    def test_other_processes_do_not_report(self) -> None:
        client = self.client()
        driver = TransformersDriver([self.callback_class()(project="p", client=client)])
        driver.state.is_world_process_zero = False
        driver.train(steps=2)
        self.assertTrue(client.flush(2))
        self.assertEqual(self.fake.requests, [])


# ---------------------------------------------------------------------------------------------
# Keras
#
# Hook signatures: https://keras.io/api/callbacks/base_callback/ and
#   https://keras.io/guides/writing_your_own_callbacks/ — on_train_begin(logs=None),
#   on_epoch_end(epoch, logs=None) with val_ metrics when validating,
#   on_train_batch_end(batch, logs=None), on_train_end(logs=None); set_model(model),
#   set_params(params).
# How they are called: keras/src/callbacks/callback_list.py — CallbackList calls
#   `callback.set_model(model)`, `callback.set_params(params)`, `on_train_begin(logs)`,
#   `on_epoch_end(epoch, logs)`, `on_train_batch_end(batch, logs=logs)` with logs made
#   Python floats, `on_train_end(logs)`; and dispatches batch ends asynchronously only while
#   every callback's `on_train_batch_end` is the base class's default (`utils.is_default`).


def keras_default(method: Any) -> Any:
    method._is_default = True  # keras.src.utils.python_utils.default
    return method


class KerasCallbackBase:
    """keras.callbacks.Callback as documented (Keras 3)."""

    def __init__(self) -> None:
        self.params: Dict[str, Any] = {}
        self._model = None

    def set_params(self, params: Dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        return self._model

    @keras_default
    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("on_"):
            return keras_default(lambda *args, **kwargs: None)
        raise AttributeError(name)


class KerasDriver:
    def __init__(self, callbacks: List[Any]) -> None:
        self.callbacks = callbacks
        model = SimpleNamespace(name="mnist_cnn")
        for callback in callbacks:
            callback.set_model(model)
            callback.set_params({"verbose": 1, "epochs": 2, "steps": 3})
        self.async_train = all(getattr(c.on_train_batch_end, "_is_default", False) for c in callbacks)

    def fit(self, epochs: int, steps: int) -> None:
        for callback in self.callbacks:
            callback.on_train_begin({})
        for epoch in range(epochs):
            for callback in self.callbacks:
                callback.on_epoch_begin(epoch, {})
            for batch in range(steps):
                for callback in self.callbacks:
                    callback.on_train_batch_begin(batch, logs={})
                    callback.on_train_batch_end(batch, logs={"loss": 1.0 / (epoch * steps + batch + 1), "accuracy": 0.5})
            logs = {"loss": 0.5 / (epoch + 1), "accuracy": 0.8, "val_loss": Scalar(0.6 / (epoch + 1)), "val_accuracy": 0.75}
            for callback in self.callbacks:
                callback.on_epoch_end(epoch, logs)
        for callback in self.callbacks:
            callback.on_train_end({"loss": 0.25})


class Keras(ClientTest):
    def callback_class(self) -> Any:
        with framework_module("keras.callbacks", Callback=KerasCallbackBase):
            callback = fresh("keras").HeraldCallback
        self.assertTrue(issubclass(callback, KerasCallbackBase))
        return callback

    def test_a_fit_reports_epoch_logs_and_finishes(self) -> None:
        client = self.client()
        driver = KerasDriver([self.callback_class()(project="p", client=client)])
        self.assertTrue(driver.async_train, "without batch logging Keras keeps dispatching batch ends asynchronously")
        driver.fit(epochs=2, steps=3)
        self.assertTrue(client.flush(5))
        stored = self.fake.stored
        self.assertEqual(stored[0]["run"]["name"], "mnist_cnn")
        sent = [(e["step"], e["metrics"]) for e in stored if e["type"] == "RUN_METRICS"]
        self.assertEqual(
            sent,
            [
                (1, {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.75}),
                (2, {"loss": 0.25, "accuracy": 0.8, "val_loss": 0.3, "val_accuracy": 0.75}),
            ],
        )
        self.assertEqual(stored[-1]["run"]["state"], "FINISHED")

    def test_batch_logging_when_asked(self) -> None:
        client = self.client()
        driver = KerasDriver([self.callback_class()(project="p", client=client, log_every_n_batches=2)])
        self.assertFalse(driver.async_train)
        driver.fit(epochs=2, steps=3)
        self.assertTrue(client.flush(5))
        batches = [(e["step"], e["metrics"]) for e in self.fake.of_type("RUN_METRICS") if "batch/loss" in e["metrics"]]
        self.assertEqual(batches, [(2, {"batch/loss": 0.5, "batch/accuracy": 0.5}), (4, {"batch/loss": 0.25, "batch/accuracy": 0.5}), (6, {"batch/loss": 1 / 6, "batch/accuracy": 0.5})])


if __name__ == "__main__":
    unittest.main()
