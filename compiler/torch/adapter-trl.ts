/**
 * The TRL adapter: a `GRPOTrainer` subclass (trl/trainer/grpo_trainer.py) whose advantages are the
 * pipeline's advantage stage over TRL's weighted reward sum, and whose `_compute_loss` calls the
 * pipeline's loss on TRL's per-token log-probabilities, laid out [B, G, T] by `num_generations`.
 */
import type { AdapterInput } from './adapters.js';
import type { StageArg, StageFn } from './emit-stage.js';
import { pyName } from './python.js';

const params = (f: StageFn): string[] => f.params.map((p) => `${pyName(p.name)}=self.rlp_params[${JSON.stringify(pyName(p.name))}]`);

function need(value: string, name: string, why: string): string {
  return `_rlp_trl_need(${value}, "${name}", "${why}")`;
}

function lossArg(a: StageArg, mainAdv: string): string {
  if (a.feed === 'logp') return 'rows(per_token_logps)';
  if (a.feed === 'old_logp') return 'rows(old)';
  if (a.feed === 'mask') return 'rows(mask)';
  if (a.feed === mainAdv) return 'rows(adv)';
  if (a.feed === 'ref_logp') return `rows(${need('inputs.get("ref_per_token_logps")', 'ref_per_token_logps', 'TRL computes it when GRPOConfig.beta != 0; the pipeline\'s own params weigh it')})`;
  if (a.feed === 'entropy') return 'rows(entropies)';
  return `rows(${need(`inputs.get("${a.feed}")`, a.feed, 'TRL\'s GRPOTrainer does not provide it')})`;
}

/** The TRL adapter's imports and code. */
export function trlAdapter(x: AdapterInput): { imports: string; code: string } {
  const imports = `
try:  # trl is optional: without it the plain functions above still work
    from trl import GRPOTrainer as _GRPOTrainer
except ImportError:
    _GRPOTrainer = None`;
  const cls = `Rlp${x.pipeline.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}Trainer`;
  const adv = x.advantage;
  const advOk = adv !== null && x.advantageDims.length === 2 && adv.args.every((a) => a.feed === 'reward' || a.feed.startsWith('reward.') || a.feed.startsWith('reward_fn.'));
  const mainAdv = adv?.outputs.at(-1) ?? '';
  const advCall = adv === null ? '' : `A, _ = compute_advantage(\n${[...adv.args.map((a) => `${a.name}=rewards.view(-1, G)`), ...params(adv)].map((s) => `            ${s},`).join('\n')}\n        )`;
  const advMethod = !advOk
    ? `    # The advantage stage is not exported to TRL: ${adv === null ? 'the pipeline has none' : 'it reads more than the reward, or is not one value per completion'}; TRL's own advantages are used.`
    : `    def _calculate_rewards(self, inputs, *args, **kwargs):
        rewards_per_func = super()._calculate_rewards(inputs, *args, **kwargs)
        self._rlp_rewards_per_func = rewards_per_func  # gathered over processes, as TRL normalizes
        return rewards_per_func

    def _generate_and_score_completions(self, inputs):
        out = super()._generate_and_score_completions(inputs)
        per_func = self._rlp_rewards_per_func
        rewards = (per_func * self.reward_weights.to(per_func.device).unsqueeze(0)).nansum(dim=1)
        G = self.num_generations if self.model.training else getattr(self, "num_generations_eval", self.num_generations)
        ${advCall}
        n = out["advantages"].shape[0]
        start = self.accelerator.process_index * n
        out["advantages"] = A.reshape(-1)[start:start + n].to(out["advantages"].dtype)
        return out`;
  const loss = x.loss;
  const rows = x.lossNeedsGroups
    ? `        G = self.num_generations if self.model.training else getattr(self, "num_generations_eval", self.num_generations)

        def rows(t):  # the loss reduces over prompts or samples alone: [N, ...] as [N / G, G, ...]
            return t.reshape(-1, G, *t.shape[1:])`
    : `        def rows(t):  # the loss treats prompts and samples alike: [N, ...] as [B = N, G = 1, ...]
            return t[:, None]`;
  const lossMethod = loss === null
    ? '    # The pipeline has no loss: TRL\'s own loss is used.'
    : `    def _compute_loss(self, model, inputs):
        prompt_ids, prompt_mask = inputs["prompt_ids"], inputs["prompt_mask"]
        completion_ids, completion_mask = inputs["completion_ids"], inputs["completion_mask"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([prompt_mask, completion_mask], dim=1)
        logits_to_keep = completion_ids.size(1)
        mask = completion_mask if "tool_mask" not in inputs else completion_mask * inputs["tool_mask"]
        result = self._get_per_token_logps_and_entropies(model, input_ids, attention_mask, logits_to_keep, compute_entropy=True)
        per_token_logps, entropies = result[0], result[1]
        old = inputs.get("old_per_token_logps")
        old = per_token_logps.detach() if old is None else old
        adv = inputs["advantages"]
        adv = adv if adv.dim() == 1 else adv[:, 0]
        mask = mask.to(per_token_logps.dtype)

${rows}

        loss, metrics = compute_loss(
${[...loss.args.map((a) => `${a.name}=${lossArg(a, mainAdv)}`), ...params(loss)].map((s) => `            ${s},`).join('\n')}
        )
        mode = "train" if self.model.training else "eval"
        for k, v in metrics.items():
            v = v.detach().to(mask.dtype)
            m = rows(mask)
            value = _masked(v, m).sum() / m.sum().clamp(min=1) if v.shape == m.shape else v.mean()
            self._metrics[mode][f"rlp/{k}"].append(self.accelerator.gather(value).mean().item())
        return loss / (self.current_gradient_accumulation_steps if mode == "train" else 1.0)`;
  const code = `# ---- TRL: a GRPOTrainer with the pipeline's advantage and loss

def _rlp_trl_need(value, name, why):
    """value, or a clear error naming what TRL did not provide."""
    if value is None:
        raise ValueError(f"${cls}: the pipeline reads \`{name}\`, which TRL did not provide ({why})")
    return value


class ${cls}(_GRPOTrainer if _GRPOTrainer is not None else object):
    """TRL's GRPOTrainer with \`${x.pipeline}\`'s advantage and loss; everything else (generation, reward
    functions and their weights, reference model, logging) is TRL's. Params: \`rlp_params\` (PARAMS).

    The advantage takes TRL's weighted sum of the reward functions (nansum: a completion no function
    scored counts as 0); the loss gets TRL's per-token log-probs, old and reference log-probs.
    """

    rlp_params = dict(PARAMS)

    def __init__(self, *args, **kwargs):
        if _GRPOTrainer is None:
            raise ImportError("${cls} needs trl (pip install trl); the plain functions of this file do not")
        super().__init__(*args, **kwargs)

${advMethod}

${lossMethod}`;
  return { imports, code };
}
