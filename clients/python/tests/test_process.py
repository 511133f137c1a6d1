"""Whole processes: what the client sends at interpreter exit, and ``python -m herald``."""

import os
import subprocess
import sys
import textwrap
import time
from typing import Dict, Optional

from .support import KEY, ClientTest

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Processes(ClientTest):
    def python(self, code: str, *args: str, env: Optional[Dict[str, str]] = None, timeout: float = 30) -> subprocess.CompletedProcess:
        environment = {
            **os.environ,
            "PYTHONPATH": PACKAGE_ROOT,
            "HERALD_URL": self.fake.url,
            "HERALD_API_KEY": KEY,
            **(env or {}),
        }
        command = [sys.executable, *(["-c", textwrap.dedent(code)] if code else []), *args]
        return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=timeout)


class AtExit(Processes):
    def test_an_uncaught_exception_ends_the_open_run_failed_with_its_last_line(self) -> None:
        done = self.python(
            """
            import herald
            run = herald.Client().start_run(project="p", name="crashes")
            run.log({"loss": 0.5}, step=1)
            raise RuntimeError("loss diverged at step 1")
            """
        )
        self.assertEqual(done.returncode, 1)
        self.assertIn("RuntimeError: loss diverged at step 1", done.stderr)
        kinds = [(e["type"], e.get("lines") or e["run"].get("state")) for e in self.fake.stored]
        self.assertEqual(
            kinds,
            [
                ("RUN_STATE", "RUNNING"),
                ("RUN_METRICS", None),
                ("RUN_LOG", ["RuntimeError: loss diverged at step 1"]),
                ("RUN_STATE", "FAILED"),
            ],
        )

    def test_a_script_that_ends_without_finish_reports_finished_and_everything_logged(self) -> None:
        done = self.python(
            """
            import herald
            client = herald.Client(flush_interval=60)  # nothing leaves before exit
            run = client.start_run(project="p", name="forgot-finish")
            for step in range(500):
                run.log({"loss": 1.0 / (step + 1)}, step=step)
            """
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(len(self.fake.of_type("RUN_METRICS")), 500)
        self.assertEqual(self.fake.stored[-1]["run"]["state"], "FINISHED")

    def test_ctrl_c_ends_the_run_killed(self) -> None:
        done = self.python(
            """
            import herald
            run = herald.Client().start_run(project="p", name="interrupted")
            raise KeyboardInterrupt
            """
        )
        self.assertNotEqual(done.returncode, 0)
        self.assertEqual(self.fake.stored[-1]["run"]["state"], "KILLED")

    def test_exit_waits_at_most_exit_timeout_when_herald_is_down(self) -> None:
        self.fake.stop()
        started = time.monotonic()
        done = self.python(
            """
            import herald
            run = herald.Client(exit_timeout=1).start_run(project="p", name="offline")
            run.log({"loss": 0.5}, step=1)
            print("training done")
            """
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("training done", done.stdout)
        self.assertLess(time.monotonic() - started, 10)
        self.assertIn("events were not sent", done.stderr)
        self.assertNotIn(KEY, done.stderr + done.stdout)


class Cli(Processes):
    def test_run_state_from_a_shell_script(self) -> None:
        done = self.python(
            "",
            "-m",
            "herald",
            "run-state",
            "--project",
            "p",
            "--run-id",
            "slurm-1234",
            "--name",
            "bert-sweep-3",
            "--state",
            "crashed",
            "--event-id",
            "slurm-1234-end",
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        (event,) = self.fake.stored
        self.assertEqual(event["id"], "slurm-1234-end")
        self.assertEqual(event["run"], {"id": "slurm-1234", "name": "bert-sweep-3", "state": "CRASHED"})

    def test_alert_from_a_shell_script(self) -> None:
        done = self.python("", "-m", "herald", "alert", "--project", "p", "--title", "Node lost", "--text", "gpu-07 rebooted", "--level", "error", "--run-id", "r1")
        self.assertEqual(done.returncode, 0, done.stderr)
        (event,) = self.fake.stored
        self.assertEqual((event["type"], event["title"], event["text"], event["level"], event["run"]), ("ALERT", "Node lost", "gpu-07 rebooted", "ERROR", {"id": "r1", "name": "r1"}))

    def test_exit_status_says_when_the_event_was_not_sent(self) -> None:
        refused = self.python("", "-m", "herald", "alert", "--project", "p", "--title", "x", env={"HERALD_API_KEY": "hrd_wrong_key_1234567890"})
        self.assertEqual(refused.returncode, 1)
        self.assertIn("HTTP 401", refused.stderr)
        self.assertNotIn("hrd_wrong_key_1234567890", refused.stderr + refused.stdout)
        self.fake.stop()
        unreachable = self.python("", "-m", "herald", "--timeout", "1", "run-state", "--project", "p", "--run-id", "r", "--state", "FAILED")
        self.assertEqual(unreachable.returncode, 1)
        self.assertIn("did not answer", unreachable.stderr)
        usage = self.python("", "-m", "herald", "run-state", "--project", "p", "--run-id", "r", "--state", "EXPLODED")
        self.assertEqual(usage.returncode, 2)

    def test_herald_disabled_exits_zero_and_sends_nothing(self) -> None:
        done = self.python("", "-m", "herald", "alert", "--project", "p", "--title", "x", env={"HERALD_DISABLED": "1"})
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(self.fake.requests, [])


if __name__ == "__main__":
    import unittest

    unittest.main()
