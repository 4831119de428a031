"""Runs exported rlp modules on batches for the torch export tests (one process, many cases).

stdin: {"cases": [{"module": PATH, "dtype": "float64"|"float32", "inputs": {FEED: {"shape", "data"}},
                   "calls": [{"fn": NAME, "args": {ARG: FEED}, "params": {NAME: VALUE}}],
                   "verl": null | {...}}]}
stdout: {"results": [{"loss", "advantage", "grad.logp", ...} | {"error": TEXT}]}
Each call's metrics become feeds of later calls under their names (advantage.A...); the loss is
differentiated with respect to the fed `logp`.
"""
import importlib.util
import json
import sys
import traceback

import torch

_modules = {}


def load(path):
    if path not in _modules:
        spec = importlib.util.spec_from_file_location(f"rlp_export_{len(_modules)}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _modules[path] = mod
    return _modules[path]


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def run_plain(case):
    mod = load(case["module"])
    dtype = getattr(torch, case["dtype"])
    values = {k: torch.tensor(v["data"], dtype=dtype).reshape(v["shape"]) for k, v in case["inputs"].items()}
    logp = values.get("logp")
    if logp is not None:
        logp.requires_grad_(True)
    out = {}
    for call in case["calls"]:
        args = {a: values[f] for a, f in call["args"].items()}
        main, metrics = getattr(mod, call["fn"])(**args, **call.get("params", {}))
        for k, v in metrics.items():
            values[k] = v
        if call["fn"] == "compute_advantage":
            out["advantage"] = flat(main)
        if call["fn"] == "compute_loss":
            out["loss"] = flat(main)
            if logp is not None:
                (g,) = torch.autograd.grad(main, [logp], allow_unused=True)
                out["grad.logp"] = flat(torch.zeros_like(logp) if g is None else g)
    return out


def main():
    req = json.load(sys.stdin)
    results = []
    for case in req["cases"]:
        try:
            results.append(run_plain(case))
        except Exception:  # reported per case, so one failure names its pipeline
            results.append({"error": traceback.format_exc()})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
