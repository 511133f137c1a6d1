"""Logs for a few seconds while the test stops Herald and starts it again; prints its progress."""

import json
import os
import sys
import time

import herald

steps = int(os.environ.get("E2E_STEPS", "400"))
client = herald.Client(max_retry_delay=0.5)
run = client.start_run(project=os.environ["E2E_PROJECT"], name="survives-restart", run_id=os.environ["E2E_RUN_ID"])
for step in range(steps):
    run.log({"train/loss": 1.0 / (step + 1), "train/step_time": 0.01}, step=step)
    if step % 50 == 0:
        run.alert(f"checkpoint {step}", level="INFO")
    if step % 25 == 0:
        print(f"step {step}", flush=True)
    time.sleep(0.01)
run.finish()
print("logged everything", flush=True)
delivered = client.flush(180)
print(json.dumps(client.stats), flush=True)
sys.exit(0 if delivered and client.stats["refused"] == 0 else 1)
