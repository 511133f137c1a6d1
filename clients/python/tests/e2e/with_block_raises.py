"""A ``with`` block whose training raises: the run is reported FAILED, the error re-raised."""

import os

import herald

client = herald.Client()
with client.start_run(project=os.environ["E2E_PROJECT"], name="diverges", run_id=os.environ["E2E_RUN_ID"]) as run:
    for step in range(3):
        run.log({"train/loss": 10.0**step}, step=step)
    raise RuntimeError("loss diverged at step 3")
