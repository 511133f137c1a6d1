"""What one ``run.log`` / ``alert`` / ``log_lines`` call costs the training loop.

Runs the client against a throwaway HTTP endpoint on 127.0.0.1, in a process of its own, that
answers 200 to every batch (the background thread really sends). Times N calls of each kind
from the training thread — the mean includes the moments the sender thread holds the GIL — and
prints the mean and percentiles per call, then the whole process's CPU time per event (the
calls plus the sender's encoding and HTTP) once everything was sent. Usage::

    python3 clients/python/benchmarks/log_cost.py [N]
"""

import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import herald  # noqa: E402


ENDPOINT = """
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        count = len(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        body = json.dumps({"results": [{"index": i, "duplicate": False} for i in range(count)]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def measure(label: str, call, n: int) -> None:
    samples = []
    clock = time.perf_counter_ns
    for i in range(n):
        start = clock()
        call(i)
        samples.append(clock() - start)
    report(label, samples)


def report(label: str, samples: list) -> None:
    samples.sort()
    mean = statistics.fmean(samples) / 1000
    p50, p99, p999 = (samples[int(len(samples) * q)] / 1000 for q in (0.5, 0.99, 0.999))
    print(f"{label:<44} mean {mean:6.2f} µs   p50 {p50:6.2f} µs   p99 {p99:7.2f} µs   p99.9 {p999:8.2f} µs")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    endpoint = subprocess.Popen([sys.executable, "-c", ENDPOINT], stdout=subprocess.PIPE, text=True)
    port = int(endpoint.stdout.readline())  # type: ignore[union-attr]
    client = herald.Client(url=f"http://127.0.0.1:{port}", api_key="hrd_bench", max_queue=10 * n)
    run = client.start_run(project="bench", name="log-cost")
    print(f"Python {sys.version.split()[0]}, {n} calls each, sender thread posting to 127.0.0.1")
    cpu, wall = time.process_time(), time.perf_counter()
    measure("run.log({'loss': x}, step=i)", lambda i: run.log({"loss": 0.5}, step=i), n)
    measure("run.log(4 metrics, step=i)", lambda i: run.log({"train/loss": 0.5, "train/acc": 0.9, "lr": 3e-4, "grad_norm": 1.5}, step=i), n)
    measure("run.log(20 metrics, step=i)", lambda i: run.log({f"layer{k}/grad": 0.1 for k in range(20)}, step=i), n // 4)
    measure("run.alert(same title) (deduplicated)", lambda i: run.alert("loss spike", wait_duration=60), n)
    measure("run.log_lines(['one line'])", lambda i: run.log_lines(["epoch done"]), n)
    assert client.flush(120), "the endpoint did not take every event"
    events = client.stats["sent"]
    print(
        f"all {events} events sent {time.perf_counter() - wall:.1f} s after the first call; "
        f"process CPU (calls + sender thread) {1e6 * (time.process_time() - cpu) / events:.1f} µs per event"
    )
    # A training loop that logs once a millisecond (fast for deep learning): the sender is
    # mostly idle, as in real use.
    # The same loop around a plain dict copy shows what a call right after a sleep costs anyway
    # (cold caches, a CPU waking up).
    baseline: dict = {}
    paced, floor = [], []
    for i in range(3000):
        time.sleep(0.001)
        start = time.perf_counter_ns()
        run.log({"train/loss": 0.5, "train/acc": 0.9, "lr": 3e-4, "grad_norm": 1.5}, step=i)
        paced.append(time.perf_counter_ns() - start)
        time.sleep(0.001)
        start = time.perf_counter_ns()
        baseline = dict({"train/loss": 0.5, "train/acc": 0.9, "lr": 3e-4, "grad_norm": 1.5}, step=i)
        floor.append(time.perf_counter_ns() - start)
    report("paced, 1 call/ms: run.log(4 metrics)", paced)
    report("paced, 1 call/ms: dict(4 metrics) (floor)", floor)
    assert client.flush(30)
    disabled = herald.Client(disabled=True).start_run(project="bench")
    measure("HERALD_DISABLED: run.log({'loss': x})", lambda i: disabled.log({"loss": 0.5}, step=i), n)
    client.close(5)
    endpoint.kill()


if __name__ == "__main__":
    main()
