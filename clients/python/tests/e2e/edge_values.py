"""Everything awkward training code hands over; Herald's validation must accept all the client sends."""

import json
import os
import sys

import herald

client = herald.Client()
project = os.environ["E2E_PROJECT"]
run = client.start_run(project=project, name="edge " + "x" * 5000, run_id="r" * 256, author="a" * 256, url="https://ml.example.com/runs/1")


class Scalar:
    def __float__(self) -> float:
        return 0.25


run.log(
    {
        "nan": float("nan"),
        "inf": float("inf"),
        "-inf": float("-inf"),
        "huge-int": 10**30,
        "huger-int": 10**400,
        "bool": True,
        "scalar": Scalar(),
        "nested": {"deeper": {"value": 1.5}},
        "ünïcödé/名前": 2.0,
        "m" * 256: 3.0,
        "m" * 257: 4.0,  # left out: names are at most 256 characters
        "text": "left out",
    },
    step=2**53 - 1,
)
run.log({f"layer{i}/grad_norm": i * 0.001 for i in range(2500)}, step=1)  # 3 events
run.log_lines(["é" * 8000, "x" * 20000, "", "tab\tand\x00nul"])
run.log_lines([f"line {i}" for i in range(2500)])  # 3 events
run.log_lines(["y" * 8000] * 300)  # ~2.4 MB: split to stay far under the body limit
run.alert("t" * 5000, text="ü" * 70000, level="warning")
client.alert("project alert", project=project, level="INFO")
client.artifact_event(
    "ADD_ARTIFACT_ALIAS",
    project=project,
    artifact={"name": "bert", "version": "v3", "collection": "bert-base", "metadata": {"f1": float("nan"), "deep": [[[1]]], "obj": object()}, "aliases": ["prod"], "tags": []},
    alias="prod",
    run=run,
    registry=True,
)
client.artifact_event("CREATE_ARTIFACT", project=project, artifact={"name": "bert", "version": "v4", "collection": "bert-base"})
run.finish("completed")
delivered = client.flush(60)
print(json.dumps(client.stats))
sys.exit(0 if delivered and client.stats["refused"] == 0 else 1)
