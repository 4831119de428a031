"""Calls exported verl adapters as verl would, against the plain functions (torch export tests).

verl is stubbed: `verl.trainer.ppo.core_algos` records what the module registers. Each case gives
a [B, G, T] batch; the adapter sees it as verl's flat [N, T] rows in the order `perm`, grouped by
a prompt `index`, and its numbers are compared with the plain functions on the [B, G, T] batch.
A loss that reads ref_logp must stop (verl passes policy losses no reference log-probs: `kl_refused`)
unless VERL_KL_IN_ACTOR, and then matches the plain loss with ref_logp = logp, detached (no KL term).
With `rollout_correction`, the loss gets verl's token-level rollout IS weights, untruncated:
exp(clamp(old_log_prob - rollout_log_probs, -20, 20)) on response tokens, 0 on padding.
The plain loss is also computed with the rows laid out [N, 1, T] (`rows_differ`: whether that
changes it, i.e. whether the loss needs each row's prompt, which verl's policy losses are not given).
stdin: {"cases": [{"module", "name", "inputs": {FEED: {"shape", "data", "bool"?}}, "perm": [..],
                   "rollout_correction": bool, "set": {FLAG: VALUE}?, "calls": [{"fn", "args": {ARG: FEED}}]}]}
stdout: {"results": [{"advantage": maxdiff, "loss": [adapter, plain], "grad": maxdiff, "rows_differ",
                      "registered": [...]} | {"error": TEXT, "kind": NAME, "rows_differ"?}]}
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


def run(case, n, out):
    REGISTERED.clear()
    mod = load(case["module"], n)
    for k, v in case.get("set", {}).items():  # module flags (VERL_STATE_OUTSIDE)
        setattr(mod, k, v)
    name = f"rlp_{case['name']}"
    t = {k: torch.tensor(v["data"], dtype=torch.bool if v.get("bool") else torch.float64).reshape(v["shape"]) for k, v in case["inputs"].items()}
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
    out["registered"] = sorted(REGISTERED)
    calls = {c["fn"]: c for c in case["calls"]}
    feed = lambda c, values: {a: values["reward" if f == "reward.reward" else f] for a, f in c["args"].items()}

    # The plain functions on the [B, G, T] batch, and the loss with rows as [N, 1, T].
    A_plain = None
    kl_in_actor = "compute_loss" in calls and "ref_logp" in calls["compute_loss"]["args"].values()
    if "compute_advantage" in calls:
        A_plain, metrics = mod.compute_advantage(**feed(calls["compute_advantage"], plain))
        plain.update(metrics)
    if "compute_loss" in calls:
        logp = t["logp"].clone().requires_grad_(True)
        plain["logp"] = logp
        if kl_in_actor:  # verl's actor adds the KL penalty: the pipeline's KL terms vanish (ref_logp = logp, detached)
            plain["ref_logp"] = logp.detach()
        loss_plain, _ = mod.compute_loss(**feed(calls["compute_loss"], plain))
        # A loss that does not read `logp` (mdpo_diffusion's per-step log-probs) has no gradient here.
        (g_plain,) = torch.autograd.grad(loss_plain, [logp], allow_unused=True) if loss_plain.requires_grad else (None,)
        as_rows = {k: v.reshape(N, 1, *v.shape[2:]) if v.dim() >= 2 and v.shape[:2] == (B, G) else v for k, v in plain.items()}
        as_rows["logp"] = t["logp"].reshape(N, 1, T).clone().requires_grad_(True)
        for k, v in plain.items():  # per-prompt values: one per row
            if k not in ("logp",) and v.dim() >= 1 and v.shape[0] == B and (v.dim() == 1 or v.shape[1] != G):
                as_rows[k] = v.repeat_interleave(G, 0)
        loss_rows, _ = mod.compute_loss(**feed(calls["compute_loss"], as_rows))
        (g_rows,) = torch.autograd.grad(loss_rows, [as_rows["logp"]], allow_unused=True) if loss_rows.requires_grad else (None,)
        g_rows = torch.zeros(N, 1, T, dtype=torch.float64) if g_rows is None else g_rows
        g_ref = torch.zeros_like(t["logp"]) if g_plain is None else g_plain
        out["rows_differ"] = bool(abs(float(loss_rows) - float(loss_plain)) > 1e-9 or (g_rows.reshape(B, G, T) - g_ref).abs().max() > 1e-9)

    # The adapter, called as verl calls it.
    if "compute_advantage" in calls:
        greedy = plain.get("greedy_reward")
        adv, ret = REGISTERED[name](
            token_level_rewards=flat(tlr), response_mask=flat(mask), index=index, config=None,
            reward_baselines=None if greedy is None else greedy[:, None].expand(B, G).reshape(N)[perm],
        )
        dims = A_plain.dim()
        spread = A_plain.reshape(*A_plain.shape, *([1] * (3 - dims))).expand(B, G, T)
        # token advantages are zero on padding; sequence advantages fill their rows
        want = flat(torch.where(mask != 0, spread, torch.zeros_like(spread)) if dims == 3 else spread)
        out["advantage"] = float((adv - want).abs().max())
        out["advantage_scale"] = float(want.abs().max())
    if "compute_loss" in calls:
        lp = flat(t["logp"]).clone().requires_grad_(True)
        weights = None
        if case.get("rollout_correction"):
            old, rollout = flat(t["old_logp"]), flat(t["rollout_logp"])
            weights = (torch.exp(torch.clamp(old - rollout, -20, 20)) * flat(mask)).detach()
        call = lambda: REGISTERED[f"loss:{name}"](
            old_log_prob=flat(t["old_logp"]), log_prob=lp, advantages=adv if A_plain is not None else None,
            response_mask=flat(mask), loss_agg_mode="token-mean", config=None, rollout_is_weights=weights,
        )
        if kl_in_actor:  # verl passes policy losses no ref_log_prob: stopped unless VERL_KL_IN_ACTOR
            mod.VERL_KL_IN_ACTOR = False
            try:
                call()
                out["kl_refused"] = False
            except ValueError as e:
                out["kl_refused"] = "`ref_log_prob`" in str(e)
            mod.VERL_KL_IN_ACTOR = True
        loss, metrics = call()
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
        out = {}
        try:
            results.append(run(case, n, out))
        except Exception as e:  # reported per case: the test checks which pipelines verl cannot feed
            results.append({**out, "error": str(e), "kind": type(e).__name__, "trace": traceback.format_exc()})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
