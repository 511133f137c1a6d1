"""The run API: events built to Herald's rules, alert dedup, end states, watch, disabled mode."""

import logging
import os
import threading
import time
from datetime import timedelta

import herald

from .support import ClientTest


class FloatLike:
    """Stands for a numpy scalar or a one-element tensor: a number through ``__float__``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __float__(self) -> float:
        return self.value


class NotAScalar:
    """Stands for a tensor of several elements: ``float()`` raises."""

    def __float__(self) -> float:
        raise ValueError("only one element tensors can be converted to Python scalars")


class StartRun(ClientTest):
    def test_start_run_posts_running_with_a_generated_id(self) -> None:
        os.environ["HERALD_PROJECT"] = "from-env"
        client = self.client()
        run = client.start_run()
        self.assertRegex(run.id, r"^[a-z0-9]{8}$")
        self.assertEqual(run.name, run.id)
        client.start_run(project="p", name="bert", run_id="r42", author="alice", url="https://ml.example.com/runs/r42")
        self.assertTrue(client.flush(5))
        first, second = self.fake.stored
        self.assertEqual(first, {**first, "type": "RUN_STATE", "project": "from-env", "run": {"id": run.id, "name": run.id, "state": "RUNNING"}})
        self.assertEqual(second["run"], {"id": "r42", "name": "bert", "url": "https://ml.example.com/runs/r42", "state": "RUNNING"})
        self.assertEqual(second["author"], "alice")

    def test_group_tags_and_config_go_with_the_running_report_only(self) -> None:
        client = self.client()
        run = client.start_run(project="p", name="sweep-1", run_id="s1", group="sweep-42", tags=("bert", "lr-sweep"), config={"lr": FloatLike(3e-4), "layers": 12, "optim": {"name": "adam"}})
        run.log({"loss": 0.5}, step=1)
        run.finish()
        self.assertTrue(client.flush(5))
        running, metrics, finished = self.fake.stored
        self.assertEqual(running["run"], {"id": "s1", "name": "sweep-1", "state": "RUNNING", "group": "sweep-42", "tags": ["bert", "lr-sweep"], "config": {"lr": 3e-4, "layers": 12, "optim": {"name": "adam"}}})
        self.assertEqual(metrics["run"], {"id": "s1", "name": "sweep-1"})
        self.assertEqual(finished["run"], {"id": "s1", "name": "sweep-1", "state": "FINISHED"})

    def test_a_context_part_that_does_not_fit_is_left_out_with_a_warning(self) -> None:
        client = self.client()
        client.start_run(project="p", run_id="s2", group="g" * 257, tags=["ok", ""], config={"loss": float("nan")})
        client.start_run(project="p", run_id="s3", config={"blob": "x" * (64 * 1024)})
        self.assertTrue(client.flush(5))
        first, second = self.fake.stored
        self.assertEqual(first["run"], {"id": "s2", "name": "s2", "state": "RUNNING"})
        self.assertEqual(second["run"], {"id": "s3", "name": "s3", "state": "RUNNING"})
        warnings = " ".join(self.logs.messages(logging.WARNING))
        for part in ("run group", "run tags", "run config"):
            self.assertIn(part, warnings)

    def test_a_run_without_project_sends_nothing_and_says_why(self) -> None:
        client = self.client()
        run = client.start_run(name="lost")
        run.log({"loss": 1.0})
        run.finish()
        self.assertTrue(client.flush(2))
        self.assertEqual(self.fake.requests, [])
        self.assertTrue(any("needs a project" in m for m in self.logs.messages(logging.ERROR)))


class Log(ClientTest):
    def test_values_are_sent_as_herald_takes_them(self) -> None:
        client = self.client()
        run = client.start_run(project="p", name="values")
        run.log(
            {
                "loss": 0.25,
                "nan": float("nan"),
                "inf": float("inf"),
                "-inf": float("-inf"),
                "int": 3,
                "huge": 10**400,
                "flag": True,
                "numpy-like": FloatLike(0.5),
                "numpy-nan": FloatLike(float("nan")),
                "val": {"loss": 0.1, "acc": {"top1": 0.9}},
                "text": "not a number",
                "tensor": NotAScalar(),
                "none": None,
                "x" * 257: 1.0,
            },
            step=7.0,  # type: ignore[arg-type]
        )
        run.log({"loss": 0.2}, step=-1)
        self.assertTrue(client.flush(5))
        metrics = self.fake.of_type("RUN_METRICS")
        self.assertEqual(
            metrics[0]["metrics"],
            {
                "loss": 0.25,
                "nan": "NaN",
                "inf": "Infinity",
                "-inf": "-Infinity",
                "int": 3,
                "huge": "Infinity",
                "flag": 1,
                "numpy-like": 0.5,
                "numpy-nan": "NaN",
                "val/loss": 0.1,
                "val/acc/top1": 0.9,
            },
        )
        self.assertEqual(metrics[0]["step"], 7)
        self.assertNotIn("step", metrics[1], "an invalid step is left out, the metrics still sent")
        warnings = self.logs.messages(logging.WARNING)
        for name in ("'text'", "'tensor'", "'none'", "'xxxx", "step -1"):
            self.assertTrue(any(name in m for m in warnings), (name, warnings))

    def test_a_problem_is_reported_once_not_per_call(self) -> None:
        run = self.client().start_run(project="p", name="once")
        for step in range(100):
            run.log({"text": "n/a", "loss": 0.1}, step=step)
        self.assertEqual(len([m for m in self.logs.messages(logging.WARNING) if "'text'" in m]), 1)

    def test_more_than_1000_metrics_are_split_into_events_of_the_same_step(self) -> None:
        client = self.client()
        run = client.start_run(project="p", name="wide")
        run.log({f"layer{i}/grad_norm": float(i) for i in range(2500)}, step=3)
        self.assertTrue(client.flush(5))
        metrics = self.fake.of_type("RUN_METRICS")
        self.assertEqual([len(e["metrics"]) for e in metrics], [1000, 1000, 500])
        self.assertEqual({e["step"] for e in metrics}, {3})

    def test_log_lines_are_cut_to_8_kib_and_grouped_by_1000(self) -> None:
        client = self.client()
        run = client.start_run(project="p", name="lines")
        run.log_lines("epoch 1 done\nepoch 2 done")
        run.log_lines(["é" * 5000])  # 10 000 bytes in UTF-8
        run.log_lines([f"line {i}" for i in range(2500)])
        self.assertTrue(client.flush(5))
        logs = self.fake.of_type("RUN_LOG")
        self.assertEqual(logs[0]["lines"], ["epoch 1 done", "epoch 2 done"])
        self.assertEqual(logs[1]["lines"], ["é" * 4096])
        self.assertEqual([len(e["lines"]) for e in logs[2:]], [1000, 1000, 500])

    def test_nothing_raises_into_training_code(self) -> None:
        client = self.client()
        run = client.start_run(project="p", name="robust")
        run.log(None)  # type: ignore[arg-type]
        run.log({"a": object()}, step="soon")  # type: ignore[arg-type]
        run.log_lines(None)  # type: ignore[arg-type]
        run.alert(None)  # type: ignore[arg-type]
        run.alert("level", level=object())
        client.artifact_event("NOT_A_TYPE", project="p", artifact={})
        client.artifact_event("ADD_ARTIFACT_ALIAS", project="p", artifact={"name": "m"})
        client.artifact_event("ADD_ARTIFACT_ALIAS", project="p", artifact="model:v1")  # type: ignore[arg-type]
        run.finish("NOT_A_STATE")
        self.assertTrue(client.flush(5))
        self.assertEqual(client.stats["refused"], 0, "nothing the server refuses was sent")
        self.assertEqual(self.fake.stored[-1]["run"]["state"], "FAILED")

    def test_log_after_finish_is_ignored(self) -> None:
        client = self.client()
        run = client.start_run(project="p", name="done")
        run.finish()
        run.finish("FAILED")
        run.log({"loss": 1.0}, step=1)
        self.assertTrue(client.flush(5))
        self.assertEqual([e["run"]["state"] for e in self.fake.stored], ["RUNNING", "FINISHED"])


class Alerts(ClientTest):
    def test_the_same_title_within_wait_duration_is_dropped(self) -> None:
        client = self.client()
        now = [1000.0]
        client._clock = lambda: now[0]
        run = client.start_run(project="p", name="alerts")
        other = client.start_run(project="p", name="other")
        self.assertTrue(run.alert("Loss is NaN", text="step 10", level="ERROR"))
        self.assertFalse(run.alert("Loss is NaN", text="step 11", level="ERROR"))
        self.assertTrue(run.alert("Another title"))
        self.assertTrue(other.alert("Loss is NaN"), "dedup is per run")
        now[0] += 59.0
        self.assertFalse(run.alert("Loss is NaN"), "the default wait is 60 s, as W&B's")
        now[0] += 1.5
        self.assertTrue(run.alert("Loss is NaN", text="step 70"))
        self.assertFalse(run.alert("Loss is NaN", wait_duration=timedelta(minutes=5)))
        now[0] += 10
        self.assertTrue(run.alert("Loss is NaN", wait_duration=5))
        self.assertTrue(run.alert("Loss is NaN", wait_duration=0))
        self.assertTrue(run.alert("Loss is NaN", wait_duration=0))
        self.assertTrue(client.flush(5))
        alerts = [(e["run"]["name"], e["title"], e.get("text")) for e in self.fake.of_type("ALERT")]
        self.assertEqual(
            alerts,
            [
                ("alerts", "Loss is NaN", "step 10"),
                ("alerts", "Another title", None),
                ("other", "Loss is NaN", None),
                ("alerts", "Loss is NaN", "step 70"),
                ("alerts", "Loss is NaN", None),
                ("alerts", "Loss is NaN", None),
                ("alerts", "Loss is NaN", None),
            ],
        )

    def test_levels_titles_and_texts_fit_herald(self) -> None:
        client = self.client()
        run = client.start_run(project="p", name="levels")
        run.alert("a", level="warning")
        run.alert("b", level="error")
        run.alert("c")
        run.alert("d", level="PANIC")
        run.alert("t" * 2000, text="x" * 100_000)
        client.alert("no run", project="p", level="ERROR")
        self.assertTrue(client.flush(5))
        alerts = self.fake.of_type("ALERT")
        self.assertEqual([e["level"] for e in alerts], ["WARN", "ERROR", "INFO", "WARN", "INFO", "ERROR"])
        self.assertEqual(len(alerts[4]["title"]), 1024)
        self.assertEqual(len(alerts[4]["text"].encode()), 64 * 1024)
        self.assertNotIn("run", alerts[5])


class EndStates(ClientTest):
    def states(self):
        return [(e["run"]["name"], e["run"]["state"]) for e in self.fake.of_type("RUN_STATE") if e["run"]["state"] != "RUNNING"]

    def test_a_with_block_reports_how_it_ended(self) -> None:
        client = self.client()
        with client.start_run(project="p", name="ok") as run:
            run.log({"loss": 0.1}, step=1)
        with self.assertRaises(ValueError):
            with client.start_run(project="p", name="raises"):
                raise ValueError("loss diverged")
        with self.assertRaises(KeyboardInterrupt):
            with client.start_run(project="p", name="ctrl-c"):
                raise KeyboardInterrupt
        self.assertTrue(client.flush(5))
        self.assertEqual(self.states(), [("ok", "FINISHED"), ("raises", "FAILED"), ("ctrl-c", "KILLED")])
        logs = self.fake.of_type("RUN_LOG")
        self.assertEqual([(e["run"]["name"], e["lines"]) for e in logs], [("raises", ["ValueError: loss diverged"]), ("ctrl-c", ["KeyboardInterrupt"])])

    def test_watch_as_context_and_decorator(self) -> None:
        client = self.client()
        with herald.watch(project="p", name="block", client=client) as run:
            self.assertIs(herald.current_run(), run)
        self.assertIsNone(herald.current_run())

        @herald.watch(project="p", client=client)
        def train(fail: bool) -> str:
            run = herald.current_run()
            assert run is not None
            run.log({"loss": 0.5}, step=1)
            if fail:
                raise RuntimeError("CUDA out of memory")
            return run.name

        self.assertEqual(train(False), "train")
        with self.assertRaises(RuntimeError):
            train(True)
        self.assertTrue(client.flush(5))
        self.assertEqual(self.states(), [("block", "FINISHED"), ("train", "FINISHED"), ("train", "FAILED")])
        self.assertEqual(self.fake.of_type("RUN_LOG")[0]["lines"], ["RuntimeError: CUDA out of memory"])
        runs = {e["run"]["id"] for e in self.fake.of_type("RUN_STATE") if e["run"]["name"] == "train"}
        self.assertEqual(len(runs), 2, "one run per call")


class ArtifactEvents(ClientTest):
    def test_artifact_events_of_every_type(self) -> None:
        client = self.client()
        run = client.start_run(project="registry", name="train")
        artifact = {"name": "bert", "version": "v3", "collection": "bert-base", "metadata": {"f1": float("nan"), "when": object()}}
        self.assertTrue(client.artifact_event("CREATE_ARTIFACT", project="registry", artifact=artifact, run=run))
        self.assertTrue(client.artifact_event("add_artifact_alias", project="registry", artifact=artifact, alias="prod", registry=True))
        self.assertTrue(client.artifact_event("ADD_ARTIFACT_TAG", project="registry", artifact=artifact, tag="release-1", event_id="tag-once"))
        self.assertFalse(client.artifact_event("ADD_ARTIFACT_TAG", project="registry", artifact=artifact))
        self.assertTrue(client.flush(5))
        created, alias, tag = [e for e in self.fake.stored if e["type"] != "RUN_STATE"]
        self.assertEqual(created["run"], {"id": run.id, "name": "train"})
        self.assertEqual(created["artifact"]["metadata"]["f1"], "NaN")
        self.assertIsInstance(created["artifact"]["metadata"]["when"], str)
        self.assertEqual((alias["type"], alias["alias"], alias["registry"]), ("ADD_ARTIFACT_ALIAS", "prod", True))
        self.assertEqual((tag["tag"], tag["id"]), ("release-1", "tag-once"))
        self.assertTrue(any("need tag" in m for m in self.logs.messages(logging.ERROR)))


class Disabled(ClientTest):
    def test_herald_disabled_makes_every_call_a_no_op(self) -> None:
        os.environ["HERALD_DISABLED"] = "1"
        before = {t.name for t in threading.enumerate()}
        client = self.client()
        self.assertTrue(client.disabled)
        started = time.perf_counter()
        run = client.start_run(project="p", name="quiet")
        for step in range(1000):
            run.log({"loss": 0.1}, step=step)
        run.alert("nothing")
        run.log_lines(["nothing"])
        client.artifact_event("CREATE_ARTIFACT", project="p", artifact={"name": "a", "version": "v1", "collection": "c"})
        run.finish()
        self.assertLess(time.perf_counter() - started, 0.5)
        self.assertTrue(client.flush(1))
        self.assertTrue(client.close(1))
        time.sleep(0.3)
        self.assertEqual(self.fake.requests, [])
        self.assertNotIn("herald-sender", {t.name for t in threading.enumerate()} - before)

    def test_missing_configuration_disables_the_client_with_a_warning(self) -> None:
        client = herald.Client()
        self.assertTrue(client.disabled)
        client.start_run(project="p").log({"loss": 1.0})
        self.assertTrue(any("HERALD_URL and HERALD_API_KEY not set" in m for m in self.logs.messages(logging.WARNING)))
        bad = herald.Client(url="ftp://herald.example", api_key="k")
        self.assertTrue(bad.disabled)


if __name__ == "__main__":
    import unittest

    unittest.main()
