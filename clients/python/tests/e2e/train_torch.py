"""A real training run: a small MLP learns a noisy linear map on the CPU for a few seconds,
reporting its validation loss on a held-out set through the client at every step.

Prints one JSON line at the end: the run, and every validation loss it logged, in order.
Run with Debian's interpreter, /usr/bin/python3 (python3-torch).
"""

import json
import os
import sys
import time

import torch

import herald

torch.manual_seed(0)
torch.set_num_threads(1)
seconds = float(os.environ.get("E2E_TRAIN_SECONDS", "3"))

# Synthetic regression: y = Xw + noise, 1536 examples to train on and 512 held out.
features = torch.randn(2048, 16)
target = features @ torch.randn(16, 1) + 0.1 * torch.randn(2048, 1)
train_x, train_y, val_x, val_y = features[:1536], target[:1536], features[1536:], target[1536:]

model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
loss_fn = torch.nn.MSELoss()

client = herald.Client()
run = client.start_run(project=os.environ["E2E_PROJECT"], name=os.environ["E2E_RUN_NAME"], run_id=os.environ["E2E_RUN_ID"])
val_losses = []
with run:
    started = time.monotonic()
    step = 0
    while time.monotonic() - started < seconds or step < 50:
        batch = torch.randint(0, len(train_x), (64,))
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(train_x[batch]), train_y[batch])
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(val_x), val_y).item()
        val_losses.append(val_loss)
        run.log({"train/loss": loss.item(), "val/loss": val_loss}, step=step)
        step += 1
delivered = client.flush(60)
print(json.dumps({"run": run.id, "steps": step, "val_losses": val_losses, "stats": client.stats}))
sys.exit(0 if delivered and client.stats["refused"] == 0 else 1)
