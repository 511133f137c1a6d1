"""Metrics, a NaN, an alert (twice: the second is deduplicated), log lines and the end state."""

import json
import os
import sys

import herald

client = herald.Client()
run = client.start_run(project=os.environ["E2E_PROJECT"], name="bert-e2e", run_id=os.environ["E2E_RUN_ID"], author="alice")
for step in range(20):
    run.log({"train/loss": 1.0 / (step + 1)}, step=step)
run.log({"train/loss": float("nan")}, step=20)
run.alert("Loss is NaN", text="train/loss is NaN at step 20", level="ERROR")
run.alert("Loss is NaN", text="again at step 21", level="ERROR")  # within wait_duration: dropped
run.log_lines(["epoch 1 done", "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"])
run.finish()
delivered = client.flush(30)
print(json.dumps(client.stats))
sys.exit(0 if delivered and client.stats["refused"] == 0 else 1)
