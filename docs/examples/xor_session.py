"""Drive the playground over HTTP: create XOR, step forward/backward/update, train, follow.

Run against a server: python docs/examples/xor_session.py http://127.0.0.1:8000
"""

import json
import sys

import httpx

base = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000") + "/api"
api = httpx.Client(base_url=base, timeout=30)

# 1. Create: XOR, one hidden layer of 3 tanh neurons, sigmoid output.
created = api.post("/networks", json={"dataset": {"name": "xor"}, "hidden": [3],
                                      "learning_rate": 0.5, "batch": {"mode": "batch"}}).json()
net = f"/networks/{created['id']}"
owner = {"Authorization": f"Bearer {created['token']}"}  # keep the token: it owns the network
print("sizes", created["network"]["sizes"], "loss", created["network"]["metrics"]["train_loss"])

# 2. One iteration, step by step, with the numbers of each step.
forward = api.post(f"{net}/forward", json={}, headers=owner).json()
print("yhat", forward["output"])
backward = api.post(f"{net}/backward", json={}, headers=owner).json()
print("loss", backward["loss"], "s of the output layer", backward["layers"][-1]["s"])
update = api.post(f"{net}/update", json={}, headers=owner).json()
print("dW of the output layer", update["layers"][-1]["dW"])

# 3. Train in the background and follow the stream until the run is done. The stream starts
#    with a snapshot of the state: a run that ended before we connected shows as its last_run.
api.post(f"{net}/train", json={"epochs": 2000}, headers=owner).raise_for_status()
with api.stream("GET", f"{net}/events") as stream:
    event = None
    for line in stream.iter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data = json.loads(line.split(":", 1)[1])
            if event == "snapshot" and data["status"] == "idle" and data["last_run"]:
                data = data["last_run"]  # already over
                event = "done"
            if event == "progress":
                print("epoch", data["epoch"], "loss", data["metrics"]["train_loss"])
            elif event == "done":
                print("done:", data["reason"], "-", data["message"])
                break

# 4. What did it learn?
print(api.post(f"{net}/predict", json={"x": [[0, 0], [0, 1], [1, 0], [1, 1]]}).json())
