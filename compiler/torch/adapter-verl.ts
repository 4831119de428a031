/**
 * The verl adapter: `compute_advantage` registered with verl's `register_adv_est` and
 * `compute_loss` with `register_policy_loss`, both as `rlp_<name>`, taking verl's flat [N, T]
 * tensors (signatures of verl/trainer/ppo/core_algos.py: estimators get token_level_rewards,
 * response_mask, index (the prompt `uid`s), config, reward_baselines; policy losses get
 * old_log_prob, log_prob, advantages, response_mask, loss_agg_mode, config, rollout_is_weights).
 */
import type { AdapterInput } from './adapters.js';
import type { StageArg, StageFn } from './emit-stage.js';
import { pyName } from './python.js';

/** verl's name for a value it may pass in kwargs, by rlp feed name. */
const VERL_NAMES: Readonly<Record<string, string>> = {
  logp: 'log_prob', old_logp: 'old_log_probs', ref_logp: 'ref_log_prob', values: 'values', old_values: 'values',
  entropy: 'entropys', token_reward: 'token_level_rewards', reward: 'token_level_rewards',
};

const HELPERS = `def _rlp_groups(index, n):
    """Positions of verl's rows as [B, G]: rows with the same prompt uid form a group, in order of first appearance."""
    if index is None:
        raise ValueError("rlp: verl passed no \`index\` (each row's prompt uid); this pipeline needs its groups")
    rows = {}
    for i, uid in enumerate(list(index)):
        rows.setdefault(uid, []).append(i)
    sizes = sorted({len(r) for r in rows.values()})
    if len(sizes) != 1 or sum(len(r) for r in rows.values()) != n:
        raise ValueError(f"rlp: every prompt needs the same number of responses (rollout.n); found group sizes {sizes}")
    return torch.tensor([i for r in rows.values() for i in r], dtype=torch.long), len(rows), sizes[0]


def _rlp_need(value, name, fn, why):
    """value, or a clear error naming what verl did not pass."""
    if value is None:
        raise ValueError(f"{fn}: the pipeline reads \`{name}\`, which verl does not pass here ({why})")
    return value


def _rlp_seq_advantage(advantages, mask):
    """A sequence advantage from verl's token advantages (one value spread over each response's tokens)."""
    first = advantages.gather(-1, mask.argmax(-1, keepdim=True)).squeeze(-1)
    return torch.where(mask.sum(-1) > 0, first, torch.zeros_like(first))


def _rlp_metrics(metrics, mask):
    """Metrics as verl logs them: floats, token values averaged over response tokens."""
    out = {}
    for k, v in metrics.items():
        v = v.detach().to(mask.dtype)
        if v.dim() == mask.dim() and v.shape == mask.shape:
            out[f"rlp/{k}"] = (_masked(v, mask).sum() / mask.sum().clamp(min=1)).item()
        else:
            out[f"rlp/{k}"] = v.mean().item()
    return out`;

/** A verl tensor regrouped to an argument's layout (`seq`/`tok` index rows by group). */
function advArg(a: StageArg, fn: string): string {
  const lay = (x: string): string => (a.dims.length === 3 ? `tok(${x})` : a.dims.length === 1 ? `seq(${x})[:, 0]` : `seq(${x})`);
  if (a.feed === 'mask') return `tok(response_mask)`;
  if (a.feed === 'token_reward') return `tok(token_level_rewards)`;
  if (a.feed === 'reward' || a.feed.startsWith('reward.') || a.feed.startsWith('reward_fn.')) return `seq(token_level_rewards.sum(-1))`;
  if (a.feed === 'greedy_reward') return lay(`_rlp_need(reward_baselines, "reward_baselines", "${fn}", "algorithm.adv_estimator gets it for ReMax-style baselines")`);
  const v = VERL_NAMES[a.feed] ?? a.feed;
  return lay(`_rlp_need(kwargs.get("${v}"), "${v}", "${fn}", "verl passes estimators only token_level_rewards, response_mask, index and reward_baselines")`);
}

function lossArg(a: StageArg, fn: string, mainAdv: string, seqAdv: boolean): string {
  if (a.feed === 'logp') return 'rows(log_prob)';
  if (a.feed === 'old_logp') return 'rows(old_log_prob)';
  if (a.feed === 'mask') return 'rows(response_mask)';
  if (a.feed === mainAdv) return seqAdv ? 'rows(_rlp_seq_advantage(advantages, response_mask))' : 'rows(advantages)';
  if (a.feed === 'ref_logp') {
    return `rows(log_prob.detach() if VERL_KL_IN_ACTOR else _rlp_need(kwargs.get("ref_log_prob"), "ref_log_prob", "${fn}", "set VERL_KL_IN_ACTOR = True to leave the KL penalty to verl's actor.use_kl_loss"))`;
  }
  const v = VERL_NAMES[a.feed] ?? a.feed;
  return `rows(_rlp_need(kwargs.get("${v}"), "${v}", "${fn}", "verl passes policy losses only old_log_prob, log_prob, advantages and response_mask"))`;
}

const params = (f: StageFn): string[] => f.params.map((p) => `${pyName(p.name)}=PARAMS[${JSON.stringify(pyName(p.name))}]`);
const call = (f: StageFn, args: string[], indent: string): string => `${f.fn}(\n${[...args, ...params(f)].map((x) => `${indent}    ${x},`).join('\n')}\n${indent})`;

function advantageFn(x: AdapterInput, f: StageFn): string {
  const name = `rlp_${x.pipeline}`;
  const fn = `${name}_advantage`;
  const spread = x.advantageDims.length === 2 ? 'A[:, :, None]' : 'A';
  const returns = f.outputs.includes('advantage.returns') ? 'metrics["advantage.returns"]' : null;
  const back = (v: string): string[] => [`        ${v} = torch.where(m != 0, ${v}, torch.zeros_like(${v})).reshape(N, T)`, `        ${v}_rows = torch.empty_like(${v})`, `        ${v}_rows[order] = ${v}`];
  return `@register_adv_est("${name}")
def ${fn}(token_level_rewards, response_mask, index=None, config=None, reward_baselines=None, **kwargs):
    """\`${x.pipeline}\`'s advantage stage as a verl estimator (algorithm.adv_estimator=${name}).

    verl's rows are regrouped by \`index\` into [B, G, T]; the reward is the sum of
    token_level_rewards over each response. Returns (advantages, returns), [N, T] in verl's row order.
    """
    N, T = token_level_rewards.shape
    order, B, G = _rlp_groups(index, N)
    order = order.to(token_level_rewards.device)

    def seq(x):
        return x[order].reshape(B, G)

    def tok(x):
        return x[order].reshape(B, G, T)

    with torch.no_grad():
        A, metrics = ${call(f, f.args.map((a) => `${a.name}=${advArg(a, fn)}`), '        ')}
        m = tok(response_mask)
        adv = ${spread}.expand(B, G, T)
${back('adv').join('\n')}
${returns === null ? '        ret_rows = adv_rows' : [`        ret = ${returns}`, `        ret = (ret[:, :, None] if ret.dim() == 2 else ret).expand(B, G, T)`, ...back('ret')].join('\n')}
    return adv_rows, ret_rows`;
}

function lossFn(x: AdapterInput, f: StageFn): string {
  const name = `rlp_${x.pipeline}`;
  const fn = `${name}_policy_loss`;
  const rows = x.lossNeedsGroups
    ? `    order, B, G = _rlp_groups(kwargs.get("index"), N)

    def rows(x):  # the loss reduces over prompts or samples alone: regroup by the prompt index
        return x[order.to(x.device)].reshape(B, G, *x.shape[1:])`
    : `    def rows(x):  # the loss treats prompts and samples alike: [N, ...] as [B = N, G = 1, ...]
        return x[:, None]`;
  return `@register_policy_loss("${name}")
def ${fn}(old_log_prob, log_prob, advantages, response_mask, loss_agg_mode="token-mean", config=None, rollout_is_weights=None, **kwargs):
    """\`${x.pipeline}\`'s loss as a verl policy loss (actor_rollout_ref.actor.policy_loss.loss_mode=${name}).

    loss_agg_mode is ignored: the pipeline aggregates as written. verl scales each micro-batch's
    loss by its gradient-accumulation factor, so the pipeline's denominators are per micro-batch.
    Returns (loss, metrics) with metrics as floats under rlp/<stage>.<name>.
    """
    if rollout_is_weights is not None:
        raise ValueError("${fn}: rollout correction weights (algorithm.rollout_is) are not applied by rlp pipelines; turn them off or write them into the pipeline")
    N, T = log_prob.shape

${rows}

    loss, metrics = ${call(f, f.args.map((a) => `${a.name}=${lossArg(a, fn, x.advantage?.outputs.at(-1) ?? '', x.advantageDims.length === 2)}`), '    ')}
    return loss, _rlp_metrics(metrics, rows(response_mask))`;
}

/** The verl adapter's imports and code. */
export function verlAdapter(x: AdapterInput): { imports: string; code: string } {
  const imports = `
try:  # verl is optional: without it the functions below are still plain functions
    from verl.trainer.ppo.core_algos import register_adv_est, register_policy_loss
except ImportError:
    def register_adv_est(name):
        return lambda fn: fn

    register_policy_loss = register_adv_est`;
  const parts = [
    '# ---- verl: the stages registered under their verl names',
    `# verl does not pass the reference policy's log-probs to policy losses. With True, a loss that reads
# ref_logp gets log_prob.detach() (its KL terms vanish): let verl's actor add the KL penalty
# (actor_rollout_ref.actor.use_kl_loss=True). With False, such a loss stops with an error.
VERL_KL_IN_ACTOR = False`,
    HELPERS,
  ];
  if (x.advantage !== null) parts.push(advantageFn(x, x.advantage));
  if (x.loss !== null) parts.push(lossFn(x, x.loss));
  return { imports, code: parts.join('\n\n\n') };
}
