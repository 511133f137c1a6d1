"""Batching, body limits, retries, Retry-After, 4xx handling and the bounded buffer."""

import email.utils
import json
import logging
import re
import time

from .fake_herald import FakeHerald, error
from .support import KEY, ClientTest


def steps(events):
    return [event["step"] for event in events if event["type"] == "RUN_METRICS"]


class Batching(ClientTest):
    def test_batches_hold_at_most_1000_events_in_the_order_logged(self) -> None:
        run = self.client().start_run(project="p", name="batching")
        for step in range(2500):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
        self.assertTrue(run._client.flush(10))
        sizes = [len(request.events) for request in self.fake.requests]
        self.assertTrue(all(size <= 1000 for size in sizes), sizes)
        self.assertIn(1000, sizes, "a full batch leaves without waiting for the linger")
        self.assertEqual(len(self.fake.stored), 2501)
        self.assertEqual(self.fake.stored[0]["type"], "RUN_STATE")
        self.assertEqual(steps(self.fake.stored), list(range(2500)))
        ids = [event["id"] for event in self.fake.stored]
        self.assertEqual(len(set(ids)), len(ids))
        self.assertTrue(all(re.match(r"^hc-[0-9a-f]{16}-\d+$", i) for i in ids), ids[:3])
        self.assertTrue(all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e["occurredAt"]) for e in self.fake.stored))

    def test_a_few_events_leave_together_after_the_linger(self) -> None:
        client = self.client(flush_interval=0.3)
        started = time.monotonic()
        run = client.start_run(project="p", name="linger")
        for step in range(3):
            run.log({"loss": 0.5}, step=step)
        self.fake.wait_stored(4)
        self.assertGreaterEqual(self.fake.requests[0].at - started, 0.25)
        self.assertEqual([len(r.events) for r in self.fake.requests], [4])

    def test_flush_sends_at_once_and_waits_for_the_answer(self) -> None:
        client = self.client(flush_interval=30)
        run = client.start_run(project="p", name="flush")
        run.log({"loss": 0.5}, step=1)
        started = time.monotonic()
        self.assertTrue(client.flush(5))
        self.assertLess(time.monotonic() - started, 2)
        self.assertEqual(len(self.fake.stored), 2)
        self.assertEqual(client.stats["sent"], 2)
        self.assertEqual(client.stats["queued"], 0)

    def test_requests_stay_under_the_body_limit(self) -> None:
        self.fake.max_body = 20_000
        client = self.client(max_body_bytes=20_000)
        run = client.start_run(project="p", name="x" * 100)
        for step in range(1000):
            run.log({"train/loss": 0.25, "train/accuracy": 0.75}, step=step)
        self.assertTrue(client.flush(10))
        self.assertGreater(len(self.fake.requests), 5)
        self.assertTrue(all(len(r.body) <= 20_000 for r in self.fake.requests))
        self.assertEqual(steps(self.fake.stored), list(range(1000)))

    def test_a_413_splits_the_batch(self) -> None:
        self.fake.max_body = 30_000  # smaller than what the client believes
        client = self.client()
        run = client.start_run(project="p", name="split")
        for step in range(1000):
            run.log({"train/loss": 0.25, "train/accuracy": 0.75}, step=step)
        self.assertTrue(client.flush(10))
        self.assertTrue(any(r for r in self.fake.requests if len(r.body) > 30_000), "the first try was too large")
        self.assertEqual(steps(self.fake.stored), list(range(1000)))
        self.assertEqual(client.stats["refused"], 0)


class Retries(ClientTest):
    def test_5xx_and_dropped_connections_are_retried_with_the_same_ids(self) -> None:
        self.fake.reply((503, {}, b"{}"), "drop", (500, {}, b"oops"))
        client = self.client()
        run = client.start_run(project="p", name="retry")
        for step in range(10):
            run.log({"loss": 0.1}, step=step)
        self.assertTrue(client.flush(15))
        self.assertEqual(len(self.fake.requests), 4)
        first, last = self.fake.requests[0].events, self.fake.requests[-1].events
        self.assertEqual([e["id"] for e in first], [e["id"] for e in last])
        self.assertEqual(len(self.fake.stored), 11)
        warnings = [m for m in self.logs.messages(logging.WARNING) if "cannot post events" in m]
        self.assertEqual(len(warnings), 1, "one warning per outage, not per attempt")
        self.assertTrue(any("answers again" in m for m in self.logs.messages(logging.WARNING)))

    def test_a_batch_stored_before_its_answer_was_lost_is_counted_once(self) -> None:
        self.fake.reply("store-then-drop")
        client = self.client()
        run = client.start_run(project="p", name="lost-answer")
        for step in range(5):
            run.log({"loss": 0.1}, step=step)
        self.assertTrue(client.flush(10))
        self.assertEqual(len(self.fake.requests), 2)
        self.assertEqual(len(self.fake.stored), 6)
        self.assertEqual(client.stats["duplicates"], 6)

    def test_retry_after_in_seconds_is_honoured(self) -> None:
        self.fake.reply((429, {"Retry-After": "1"}, b"{}"))
        client = self.client()
        client.start_run(project="p", name="slow-down")
        self.assertTrue(client.flush(10))
        first, second = self.fake.requests[0].at, self.fake.requests[1].at
        self.assertGreaterEqual(second - first, 0.95)
        self.assertEqual(len(self.fake.stored), 1)

    def test_retry_after_as_an_http_date_is_honoured(self) -> None:
        when = email.utils.formatdate(time.time() + 2.5, usegmt=True)
        self.fake.reply((503, {"Retry-After": when}, b"{}"))
        client = self.client()
        client.start_run(project="p", name="slow-down")
        self.assertTrue(client.flush(10))
        self.assertGreaterEqual(self.fake.requests[1].at - self.fake.requests[0].at, 1.0)

    def test_herald_down_when_training_starts_loses_nothing(self) -> None:
        self.fake.stop()
        client = self.client()
        run = client.start_run(project="p", name="early")
        for step in range(50):
            run.log({"loss": 0.1}, step=step)
        run.alert("still here", level="WARN")
        time.sleep(1.2)
        self.assertEqual(client.stats["queued"], 52)
        self.fake.start()
        self.assertTrue(client.flush(10))
        self.assertEqual(len(self.fake.stored), 52)
        self.assertEqual(steps(self.fake.stored), list(range(50)))
        self.assertEqual(self.fake.stored[-1]["title"], "still here")


class Refusals(ClientTest):
    def test_an_event_herald_keeps_failing_on_is_isolated_and_dropped(self) -> None:
        self.fake.poison = lambda event: "poison" in event.get("metrics", {})
        client = self.client()
        run = client.start_run(project="p", name="poison")
        for step in range(10):
            run.log({"poison" if step == 6 else "loss": 0.1}, step=step)
        self.assertTrue(client.flush(30))
        self.assertEqual(steps(self.fake.stored), [0, 1, 2, 3, 4, 5, 7, 8, 9])
        self.assertEqual(client.stats["refused"], 1)
        self.assertEqual(len([m for m in self.logs.messages(logging.ERROR) if "HTTP 500" in m]), 1)


    def test_401_and_403_are_logged_once_and_not_retried(self) -> None:
        for status in (401, 403):
            with self.subTest(status=status):
                self.fake.requests.clear()
                self.logs.records.clear()
                self.fake.reply(*[error(status, "No", "no")] * 3)
                client = self.client(api_key=KEY)
                run = client.start_run(project="p", name="refused")
                for batch in range(3):
                    run.log({"loss": 0.1}, step=batch)
                    client.flush(5)
                self.assertEqual(len(self.fake.requests), 3, "one request per batch, none retried")
                errors = [m for m in self.logs.messages(logging.ERROR) if f"HTTP {status}" in m]
                self.assertEqual(len(errors), 1)
                self.assertEqual(client.stats["refused"], 4)

    def test_the_api_key_never_appears_in_logs(self) -> None:
        secret = "hrd_this_is_a_secret_never_logged"
        client = self.client(api_key=secret)
        run = client.start_run(project="p", name="secret")
        run.log({"loss": 0.1}, step=1)
        client.flush(5)
        self.fake.stop()
        run.log({"loss": 0.2}, step=2)
        client.close(0.5)
        text = "\n".join(self.logs.messages())
        self.assertIn("HTTP 401", text)
        self.assertIn("not sent", text)
        self.assertNotIn(secret, text)
        self.assertNotIn(secret, repr(client))

    def test_a_400_naming_events_drops_only_those(self) -> None:
        self.fake.reply(error(400, "Bad Request", "Invalid input", [{"field": "events[2].metrics.loss", "reason": "nope"}]))
        client = self.client()
        run = client.start_run(project="p", name="partial")
        for step in range(5):
            run.log({"loss": 0.1}, step=step)
        self.assertTrue(client.flush(10))
        self.assertEqual(len(self.fake.requests), 2)
        self.assertEqual(steps(self.fake.stored), [0, 2, 3, 4], "events[2] of the batch (step 1) is dropped")
        self.assertEqual(client.stats["refused"], 1)
        self.assertEqual(len([m for m in self.logs.messages(logging.ERROR) if "HTTP 400" in m]), 1)

    def test_a_400_about_the_whole_batch_drops_it(self) -> None:
        self.fake.reply(error(400, "Bad Request", "Invalid input", [{"field": "events", "reason": "must hold 1 to 1000 events"}]))
        client = self.client()
        run = client.start_run(project="p", name="whole")
        run.log({"loss": 0.1}, step=1)
        self.assertTrue(client.flush(10))
        self.assertEqual(len(self.fake.requests), 1)
        self.assertEqual(self.fake.stored, [])
        self.assertEqual(client.stats["refused"], 2)


class Buffer(ClientTest):
    def test_a_full_buffer_drops_the_oldest_metrics_and_keeps_states_and_alerts(self) -> None:
        self.fake.stop()
        client = self.client(max_queue=100, batch_size=10)
        run = client.start_run(project="p", name="full")
        for step in range(300):
            run.log({"loss": 0.1}, step=step)
            if step == 150:
                run.alert("halfway", level="INFO")
        run.finish()
        dropped = client.stats["dropped"]
        self.assertGreaterEqual(dropped, 300 - 100 - 10)
        self.fake.start()
        self.assertTrue(client.flush(15))
        stored = self.fake.stored
        kept = steps(stored)
        self.assertEqual(len(kept) + dropped, 300)
        # The batch that was in flight when the buffer filled (≤ 10 consecutive steps), then
        # the newest steps, consecutive up to the last one: everything between was dropped.
        gaps = [i for i in range(1, len(kept)) if kept[i] != kept[i - 1] + 1]
        self.assertLessEqual(len(gaps), 1, kept)
        in_flight = kept[: gaps[0]] if gaps else []
        self.assertLessEqual(len(in_flight), 10)
        self.assertEqual(kept[len(in_flight) :], list(range(300 - len(kept) + len(in_flight), 300)))
        self.assertEqual([e["run"]["state"] for e in stored if e["type"] == "RUN_STATE"], ["RUNNING", "FINISHED"])
        self.assertEqual([e["title"] for e in stored if e["type"] == "ALERT"], ["halfway"])
        self.assertEqual(stored[-1]["type"], "RUN_STATE", "order is kept across the queues")
        self.assertEqual(len([m for m in self.logs.messages(logging.WARNING) if "buffer is full" in m]), 1)

    def test_log_lines_are_dropped_once_no_metric_is_left_and_alerts_never(self) -> None:
        self.fake.stop()
        client = self.client(max_queue=4, batch_size=1)
        run = client.start_run(project="p", name="order")
        deadline = time.monotonic() + 5
        while client._sender._inflight is None and time.monotonic() < deadline:  # RUNNING is being tried
            time.sleep(0.01)
        run.log({"a": 1.0}, step=1)
        run.log_lines(["one"])
        run.alert("kept")
        run.log_lines(["two"])
        run.log({"a": 2.0}, step=2)  # full: the metric of step 1 goes
        run.log_lines(["three"])  # full: the metric of step 2 goes, the last one
        run.log_lines(["four"])  # full, no metric left: the oldest log line goes
        self.assertEqual(client.stats["dropped"], 3)
        self.fake.start()
        self.assertTrue(client.flush(10))
        stored = [(e["type"], e.get("lines") or e.get("title") or e["run"].get("state")) for e in self.fake.stored]
        self.assertEqual(
            stored,
            [("RUN_STATE", "RUNNING"), ("ALERT", "kept"), ("RUN_LOG", ["two"]), ("RUN_LOG", ["three"]), ("RUN_LOG", ["four"])],
        )

    def test_close_reports_what_could_not_be_sent(self) -> None:
        self.fake.stop()
        client = self.client()
        run = client.start_run(project="p", name="gone")
        run.log({"loss": 0.1}, step=1)
        started = time.monotonic()
        self.assertFalse(client.close(0.5))
        self.assertLess(time.monotonic() - started, 3)
        self.assertEqual(client.stats["unsent"], 2)
        self.assertTrue(any("2 events were not sent" in m for m in self.logs.messages(logging.WARNING)))
        run.log({"loss": 0.2}, step=2)  # after close: ignored, reported, never raised
        self.assertTrue(any("closed" in m for m in self.logs.messages(logging.WARNING)))


class Fork(ClientTest):
    def test_a_forked_child_sends_its_own_events_not_the_parents(self) -> None:
        import os

        if not hasattr(os, "fork"):
            self.skipTest("no fork on this platform")
        client = self.client(flush_interval=5)
        run = client.start_run(project="p", name="fork")
        run.log({"parent": 1.0}, step=1)
        pid = os.fork()
        if pid == 0:  # the child: its buffer starts empty, its own thread sends
            code = 1
            try:
                run.log({"child": 2.0}, step=2)
                code = 0 if client.flush(5) else 3
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8, 0)
        self.assertTrue(client.flush(5))
        names = sorted(name for e in self.fake.stored for name in e.get("metrics", {}))
        self.assertEqual(names, ["child", "parent"])
        self.assertEqual(len(self.fake.stored), 3)
        self.assertEqual(len({e["id"] for e in self.fake.stored}), 3)


if __name__ == "__main__":
    import unittest

    unittest.main()
