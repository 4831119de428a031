"""Calls exported verl adapters as verl would, against the plain functions (torch export tests).

verl is stubbed: `verl.trainer.ppo.core_algos` records what the module registers. Each case gives
a [B, G, T] batch; the adapter sees it as verl's flat [N, T] rows in the order `perm`, grouped by
a prompt `index`, and its numbers are compared with the plain functions on the [B, G, T] batch.
stdin: {"cases": [{"module", "name", "inputs": {FEED: {"shape", "data"}}, "perm": [..],
                   "calls": [{"fn", "args": {ARG: FEED}}]}]}
stdout: {"results": [{"advantage": maxdiff, "loss": [adapter, plain], "grad": maxdiff,
                      "registered": [...]} | {"error": TEXT, "kind": NAME}]}
"""
import importlib.util
import json
import sys
import traceback
import types

import torch

REGISTERED = {}


def _register(name):
    def deco(fn):
        REGISTERED[name] = fn
        return fn
    return deco


def stub_verl():
    mods = ["verl", "verl.trainer", "verl.trainer.ppo", "verl.trainer.ppo.core_algos"]
    for m in mods:
        sys.modules.setdefault(m, types.ModuleType(m))
    core = sys.modules["verl.trainer.ppo.core_algos"]
    core.register_adv_est = _register
    core.register_policy_loss = lambda name: _register(f"loss:{name}")


def load(path, n):
    spec = importlib.util.spec_from_file_location(f"rlp_verl_{n}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(case, n):
    REGISTERED.clear()
    mod = load(case["module"], n)
    name = f"rlp_{case['name']}"
    t = {k: torch.tensor(v["data"], dtype=torch.float64).reshape(v["shape"]) for k, v in case["inputs"].items()}
    mask = t["mask"]
    B, G, T = mask.shape
    N = B * G
    perm = torch.tensor(case["perm"], dtype=torch.long)  # verl row r holds sample perm[r] of the [B*G] order
    flat = lambda x: x.reshape(N, *x.shape[2:])[perm]
    tlr = torch.where(mask != 0, t["token_reward"], torch.zeros_like(mask))
    plain = dict(t)
    plain["token_reward"] = tlr
    plain["reward"] = tlr.sum(-1)
    index = [f"prompt-{int(p) // G}" for p in perm]
    out = {"registered": sorted(REGISTERED)}
    calls = {c["fn"]: c for c in case["calls"]}
    feed = lambda c, values: {a: values[f if not f.startswith("reward.") else "reward"] for a, f in c["args"].items()}
    A_plain = None
    if "compute_advantage" in calls:
        greedy = plain.get("greedy_reward")
        adv, ret = REGISTERED[name](
            token_level_rewards=flat(tlr), response_mask=flat(mask), index=index, config=None,
            reward_baselines=None if greedy is None else greedy[:, None].expand(B, G).reshape(N)[perm],
        )
        A_plain, metrics = mod.compute_advantage(**feed(calls["compute_advantage"], plain))
        plain.update(metrics)
        spread = A_plain[:, :, None].expand(B, G, T) if A_plain.dim() == 2 else A_plain
        want = flat(torch.where(mask != 0, spread, torch.zeros_like(spread)))
        out["advantage"] = float((adv - want).abs().max())
        out["advantage_scale"] = float(want.abs().max())
    if "compute_loss" in calls:
        logp = t["logp"].clone().requires_grad_(True)
        plain["logp"] = logp
        loss_plain, _ = mod.compute_loss(**feed(calls["compute_loss"], plain))
        (g_plain,) = torch.autograd.grad(loss_plain, [logp], allow_unused=True)
        lp = flat(t["logp"]).clone().requires_grad_(True)
        advantages = adv if A_plain is not None else None
        loss, metrics = REGISTERED[f"loss:{name}"](
            old_log_prob=flat(t["old_logp"]), log_prob=lp, advantages=advantages, response_mask=flat(mask),
            loss_agg_mode="token-mean", config=None, ref_log_prob=flat(t["ref_logp"]) if "ref_logp" in t else None,
        )
        (g,) = torch.autograd.grad(loss, [lp])
        g_want = flat(torch.zeros_like(t["logp"]) if g_plain is None else g_plain)
        out["loss"] = [float(loss), float(loss_plain)]
        out["grad"] = float((g - g_want).abs().max())
        out["grad_scale"] = float(g_want.abs().max())
        out["metrics"] = sorted(metrics)
    return out


def main():
    stub_verl()
    req = json.load(sys.stdin)
    results = []
    for n, case in enumerate(req["cases"]):
        try:
            results.append(run(case, n))
        except Exception as e:  # reported per case: the test checks which pipelines verl cannot feed
            results.append({"error": str(e), "kind": type(e).__name__, "trace": traceback.format_exc()})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
