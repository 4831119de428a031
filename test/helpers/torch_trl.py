"""Drives an exported TRL adapter against a stub of trl.GRPOTrainer (torch export tests).

The stub has the hooks the adapter overrides or calls, as trl/trainer/grpo_trainer.py does:
_calculate_rewards (gathered rewards per function), _generate_and_score_completions (a dict with
"advantages"), _get_per_token_logps_and_entropies, and the attributes the adapter reads.
argv: MODULE. stdin: {"rewards_per_func": [[..]], "weights": [..], "G": n, "logp", "old_logp",
"ref_logp", "mask": [N][T] lists}. stdout: the adapter's and the plain functions' numbers.
"""
import collections
import importlib.util
import json
import sys
import types

import torch

req = json.load(sys.stdin)
t = lambda k: torch.tensor(req[k], dtype=torch.float64)
N, T = t("mask").shape


class GRPOTrainer:
    def __init__(self, *args, **kwargs):
        self.num_generations = req["G"]
        self.model = types.SimpleNamespace(training=True)
        self.accelerator = types.SimpleNamespace(process_index=0, gather=lambda v: v)
        self.reward_weights = t("weights")
        self._metrics = {"train": collections.defaultdict(list), "eval": collections.defaultdict(list)}
        self.current_gradient_accumulation_steps = 2
        self.logp = t("logp").clone().requires_grad_(True)

    def _calculate_rewards(self, inputs, *args):
        return t("rewards_per_func")

    def _generate_and_score_completions(self, inputs):
        self._calculate_rewards(inputs)
        return {"advantages": torch.zeros(N, dtype=torch.float64)}

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep, compute_entropy=False):
        return self.logp, torch.zeros_like(self.logp)


trl = types.ModuleType("trl")
trl.GRPOTrainer = GRPOTrainer
sys.modules["trl"] = trl
spec = importlib.util.spec_from_file_location("rlp_trl_module", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)

cls = [v for k, v in vars(mod).items() if k.startswith("Rlp") and k.endswith("Trainer")][0]
trainer = cls()
out = trainer._generate_and_score_completions(None)
G = req["G"]
reward = (t("rewards_per_func") * t("weights")[None, :]).nansum(dim=1).view(-1, G)
A, _ = mod.compute_advantage(reward=reward)
inputs = {
    "prompt_ids": torch.zeros(N, 2, dtype=torch.long), "prompt_mask": torch.ones(N, 2, dtype=torch.long),
    "completion_ids": torch.zeros(N, T, dtype=torch.long), "completion_mask": t("mask").long(),
    "advantages": out["advantages"], "old_per_token_logps": t("old_logp"), "ref_per_token_logps": t("ref_logp"),
}
loss = trainer._compute_loss(None, inputs)
(g,) = torch.autograd.grad(loss, [trainer.logp])
lp = t("logp").clone().requires_grad_(True)
grouped = lambda x: x.view(-1, G, T)
plain, _ = mod.compute_loss(logp=grouped(lp), old_logp=grouped(t("old_logp")), ref_logp=grouped(t("ref_logp")), mask=grouped(t("mask")), advantages=A)
(g_plain,) = torch.autograd.grad(plain, [lp])
json.dump({
    "advantage": float((out["advantages"] - A.reshape(-1)).abs().max()),
    "loss": [float(loss), float(plain) / 2],
    "grad": float((g - g_plain / 2).abs().max()),
    "grad_scale": float(g_plain.abs().max()),
    "metrics": sorted(trainer._metrics["train"]),
}, sys.stdout)
