/**
 * The verl adapter: `compute_advantage` registered with verl's `register_adv_est` and
 * `compute_loss` with `register_policy_loss`, both as `rlp_<name>`, taking verl's flat [N, T]
 * tensors (signatures of verl/trainer/ppo/core_algos.py: estimators get token_level_rewards,
 * response_mask, index (the prompt `uid`s), config, reward_baselines; policy losses get
 * old_log_prob, log_prob, advantages, response_mask, loss_agg_mode, config, rollout_is_weights,
 * in verl-project/verl 1dda039 and volcengine/verl b178a3c alike: no prompt index, no reference or
 * rollout log-probs). Driven by the exported functions' arguments: what verl passes is mapped
 * (rollout_logp recovered from untruncated token-level rollout_is_weights); everything else, and a
 * loss that needs each row's prompt, stops with one error naming it all (`_rlp_require`).
 */
import type { AdapterInput } from './adapters.js';
import type { StageArg, StageFn } from './emit-stage.js';
import { pyName } from './python.js';

/** verl's name for a value it may pass in kwargs, by rlp feed name. */
const VERL_NAMES: Readonly<Record<string, string>> = {
  logp: 'log_prob', old_logp: 'old_log_probs', ref_logp: 'ref_log_prob', values: 'values', old_values: 'values',
  entropy: 'entropys', token_reward: 'token_level_rewards', rollout_logp: 'rollout_log_probs',
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


def _rlp_require(fn, needs):
    """One clear error naming everything the pipeline reads that verl did not pass: needs are (name, value, why)."""
    missing = [(name, why) for name, value, why in needs if value is None]
    if missing:
        names = ", ".join(f"\`{name}\`" for name, _ in missing)
        by_why = {}
        for name, why in missing:
            by_why.setdefault(why, []).append(name)
        whys = "; ".join(f"{', '.join(ns)}: {why}" for why, ns in by_why.items())
        raise ValueError(f"{fn}: the pipeline reads {names}, which verl does not pass here ({whys})")


def _rlp_seq_advantage(advantages, mask):
    """A sequence advantage from verl's token advantages: the value at each response's first token
    (position 0 for an empty response: the estimator writes sequence advantages on every position)."""
    return advantages.gather(-1, mask.argmax(-1, keepdim=True)).squeeze(-1)


def _rlp_metrics(metrics, mask):
    """Metrics as verl logs them: floats, token values averaged over response tokens."""
    out = {}
    for k, v in metrics.items():
        v = torch.as_tensor(v).detach().to(mask.dtype)
        if v.dim() == mask.dim() and v.shape == mask.shape:
            out[f"rlp/{k}"] = (_masked(v, mask).sum() / mask.sum().clamp(min=1)).item()
        else:
            out[f"rlp/{k}"] = v.mean().item()
    return out`;

const ROLLOUT_HELPER = `def _rlp_rollout_logp(old_log_prob, rollout_is_weights, mask):
    """The sampler's log-probs from verl's token-level rollout IS weights w = exp(old_log_prob - rollout_log_probs),
    untruncated (verl clamps the log-ratio to [-20, 20] first: beyond that the ratio is exp(+-20))."""
    valid = mask != 0
    if bool(((rollout_is_weights <= 0) & valid).any()):
        raise ValueError(f"rlp: verl's rollout_is_weights are 0 on response tokens (rejection sampling or an IcePop band is on), so the sampler's log-probs cannot be recovered; {ROLLOUT_SETUP}")
    w = torch.where(valid, rollout_is_weights, torch.ones_like(rollout_is_weights)).to(old_log_prob.dtype)
    return old_log_prob - torch.log(w)`;

/** How to make verl hand a policy loss the sampler's log-probs (as rollout IS weights). */
const ROLLOUT_SETUP = `# The loss reads the sampler's log-probs (rollout_logp); verl passes policy losses only weights made from them.
ROLLOUT_SETUP = (
    "policy losses get the sampler's log-probs only as rollout_is_weights = exp(old_log_prob - rollout_log_probs): set "
    "actor_rollout_ref.rollout.calculate_log_probs=True, algorithm.rollout_correction.rollout_is=token, "
    "algorithm.rollout_correction.rollout_is_threshold=1e9 (no truncation), algorithm.rollout_correction.rollout_rs=null, "
    "algorithm.rollout_correction.rollout_is_batch_normalize=False and bypass_mode=False; the pipeline applies its own correction"
)`;

const BGT = ['B', 'G', 'T'];
const isReward = (feed: string): boolean => feed === 'reward' || feed === 'reward.reward' || feed.startsWith('reward_fn.');

/** `x` ([B, G, ...] after regrouping) laid out as an argument's dims ([B], [B, G] or [B, G, T]). */
function laidOut(x: string, dims: readonly string[]): string {
  return dims.length === 3 ? x : dims.length === 1 ? `${x}[:, 0]` : x;
}

/** Something a function reads that verl may not pass: its verl name, the Python value (None when absent) and why (a Python expression). */
interface Need {
  readonly name: string;
  readonly value: string;
  readonly why: string;
}

/** An argument's Python expression, and what it needs from verl beyond the fixed arguments. */
interface Arg {
  readonly expr: string;
  readonly need?: Need;
}

/** `_rlp_require(...)`: one error naming everything verl did not pass (empty when nothing can be missing). */
function require(fn: string, needs: readonly Need[]): string[] {
  const seen = new Map(needs.map((n) => [n.name, n]));
  if (seen.size === 0) return [];
  return [
    `    _rlp_require("${fn}", [`,
    ...[...seen.values()].map((n) => `        (${JSON.stringify(n.name)}, ${n.value}, ${n.why}),`),
    '    ])',
  ];
}

const fromKwargs = (name: string, why: string): Need => ({ name, value: `kwargs.get(${JSON.stringify(name)})`, why: JSON.stringify(why) });

/** A verl tensor regrouped to an argument's layout (`seq`/`tok` index rows by group). */
function advArg(a: StageArg): Arg {
  const lay = (x: string): string => (a.dims.length === 3 ? `tok(${x})` : laidOut(`seq(${x})`, a.dims));
  if (a.feed === 'mask') return { expr: 'tok(response_mask)' };
  if (a.feed === 'token_reward') return { expr: 'tok(token_level_rewards)' };
  if (isReward(a.feed)) return { expr: 'seq(token_level_rewards.sum(-1))' };
  if (a.feed === 'greedy_reward') return { expr: lay('reward_baselines'), need: { name: 'reward_baselines', value: 'reward_baselines', why: JSON.stringify('algorithm.adv_estimator gets it for ReMax-style baselines') } };
  const v = VERL_NAMES[a.feed] ?? a.feed;
  const why = a.feed.startsWith('reward.')
    ? "verl's reward manager gives one score per response, the pipeline's `reward`"
    : 'verl passes estimators only token_level_rewards, response_mask, index and reward_baselines';
  return { expr: lay(`kwargs[${JSON.stringify(v)}]`), need: fromKwargs(v, why) };
}

function lossArg(a: StageArg, mainAdv: string): Arg {
  if (a.feed === 'logp') return { expr: 'rows(log_prob)' };
  if (a.feed === 'old_logp') return { expr: 'rows(old_log_prob)' };
  if (a.feed === 'mask') return { expr: 'rows(response_mask)' };
  if (a.feed === mainAdv) return { expr: a.dims.length === 3 ? 'rows(advantages)' : laidOut('rows(_rlp_seq_advantage(advantages, response_mask))', a.dims) };
  if (a.feed === 'rollout_logp') {
    return { expr: 'rows(_rlp_rollout_logp(old_log_prob, rollout_is_weights, response_mask))', need: { name: 'rollout_log_probs', value: 'rollout_is_weights', why: 'ROLLOUT_SETUP' } };
  }
  if (a.feed === 'ref_logp') {
    return {
      expr: 'rows(log_prob.detach() if VERL_KL_IN_ACTOR else kwargs["ref_log_prob"])',
      need: { name: 'ref_log_prob', value: 'True if VERL_KL_IN_ACTOR else kwargs.get("ref_log_prob")', why: JSON.stringify("set VERL_KL_IN_ACTOR = True to leave the KL penalty to verl's actor.use_kl_loss") },
    };
  }
  const v = VERL_NAMES[a.feed] ?? a.feed;
  const why = a.feed.startsWith('advantage.')
    ? "a verl estimator hands the loss one advantage per token; the pipeline's loss reads more of its advantage stage"
    : 'verl passes policy losses only old_log_prob, log_prob, advantages, response_mask and rollout_is_weights';
  return { expr: `rows(kwargs[${JSON.stringify(v)}])`, need: fromKwargs(v, why) };
}

const params = (f: StageFn): string[] => f.params.map((p) => `${pyName(p.name)}=PARAMS[${JSON.stringify(pyName(p.name))}]`);
const call = (f: StageFn, args: string[], indent: string): string => `${f.fn}(\n${[...args, ...params(f)].map((x) => `${indent}    ${x},`).join('\n')}\n${indent})`;

/** What a stateful pipeline's update block reads: verl runs no update block, so each is missing unless the user keeps the state outside verl. */
function stateNeeds(x: AdapterInput): Need[] {
  if (x.update === null) return [];
  const why = 'read by the update block, which carries state from step to step and which verl does not run: keep the state in your reward function, call compute_update there, and set VERL_STATE_OUTSIDE = True';
  return x.update.args.filter((a) => !a.feed.startsWith('reward.') && !a.feed.startsWith('advantage.')).map((a) => ({ name: a.feed, value: 'True if VERL_STATE_OUTSIDE else None', why: JSON.stringify(why) }));
}

function advantageFn(x: AdapterInput, f: StageFn): string {
  const name = `rlp_${x.pipeline}`;
  const fn = `${name}_advantage`;
  const dims = x.advantageDims;
  const fits = dims.length > 0 && dims.every((d) => BGT.includes(d));
  const index = BGT.map((d) => (dims.includes(d) ? ':' : 'None')).join(', ');
  const token = dims.includes('T');
  const returns = f.outputs.includes('advantage.returns') ? 'metrics["advantage.returns"]' : null;
  // Token advantages are zero on padding, as verl's; a sequence advantage fills its row (an empty response keeps it).
  const spread = (v: string, src: string): string[] => [
    `        ${v} = ${src}[${index}].expand(B, G, T)`,
    ...(token ? [`        ${v} = torch.where(m != 0, ${v}, torch.zeros_like(${v}))`] : []),
    `        ${v} = ${v}.reshape(N, T)`,
    `        ${v}_rows = torch.empty_like(${v})`,
    `        ${v}_rows[order] = ${v}`,
  ];
  const body = !fits
    ? [`        raise ValueError("${fn}: the advantage is [${dims.join(', ')}], which verl's per-token advantages cannot carry")`]
    : [
      ...(token ? ['        m = tok(response_mask)'] : []),
      ...spread('adv', 'A'),
      ...(returns === null ? ['        ret_rows = adv_rows'] : spread('ret', returns)),
    ];
  const args = f.args.map((a) => ({ a, ...advArg(a) }));
  const needs = [...stateNeeds(x), ...args.flatMap((a) => (a.need === undefined ? [] : [a.need]))];
  return `@register_adv_est("${name}")
def ${fn}(token_level_rewards, response_mask, index=None, config=None, reward_baselines=None, **kwargs):
    """\`${x.pipeline}\`'s advantage stage as a verl estimator (algorithm.adv_estimator=${name}).

    verl's rows are regrouped by \`index\` into [B, G, T]; the reward is the sum of
    token_level_rewards over each response. Returns (advantages, returns), [N, T] in verl's row order.
    """
${[...require(fn, needs), ''].join('\n')}    N, T = token_level_rewards.shape
    order, B, G = _rlp_groups(index, N)
    order = order.to(token_level_rewards.device)

    def seq(x):
        return x[order].reshape(B, G)

    def tok(x):
        return x[order].reshape(B, G, T)

    with torch.no_grad():
        A, metrics = ${call(f, args.map(({ a, expr }) => `${a.name}=${expr}`), '        ')}
${body.join('\n')}
    return adv_rows, ret_rows`;
}

function lossFn(x: AdapterInput, f: StageFn): string {
  const name = `rlp_${x.pipeline}`;
  const fn = `${name}_policy_loss`;
  const readsRollout = f.args.some((a) => a.feed === 'rollout_logp');
  const args = f.args.map((a) => ({ a, ...lossArg(a, x.advantage?.outputs.at(-1) ?? '') }));
  const needs = [
    ...stateNeeds(x),
    ...(x.lossNeedsGroups ? [fromKwargs('index', "policy losses get no prompt uids, and this loss reduces over a prompt's samples, or over prompts, alone")] : []),
    ...args.flatMap((a) => (a.need === undefined ? [] : [a.need])),
  ];
  const rows = x.lossNeedsGroups
    ? `    order, B, G = _rlp_groups(kwargs["index"], N)

    def rows(x):  # the loss reduces over prompts or samples alone: regroup by the prompt index
        return x[order.to(x.device)].reshape(B, G, *x.shape[1:])`
    : `    def rows(x):  # the loss treats prompts and samples alike: [N, ...] as [B = N, G = 1, ...]
        return x[:, None]`;
  const weights = readsRollout
    ? '    # rollout_is_weights carry the sampler\'s log-probs (see ROLLOUT_SETUP); the pipeline applies its own correction.'
    : `    if rollout_is_weights is not None:
        raise ValueError("${fn}: rollout correction weights (algorithm.rollout_correction.rollout_is) are not applied by this pipeline; turn them off or write the correction into the pipeline")`;
  return `@register_policy_loss("${name}")
def ${fn}(old_log_prob, log_prob, advantages, response_mask, loss_agg_mode="token-mean", config=None, rollout_is_weights=None, **kwargs):
    """\`${x.pipeline}\`'s loss as a verl policy loss (actor_rollout_ref.actor.policy_loss.loss_mode=${name}).

    loss_agg_mode is ignored: the pipeline aggregates as written. verl scales each micro-batch's
    loss by its gradient-accumulation factor, so the pipeline's denominators are per micro-batch.
    Returns (loss, metrics) with metrics as floats under rlp/<stage>.<name>.
    """
${[...require(fn, needs), ''].join('\n')}${weights}
    N, T = log_prob.shape

${rows}

    loss, metrics = ${call(f, args.map(({ a, expr }) => `${a.name}=${expr}`), '    ')}
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
    ...(x.update === null ? [] : [`# verl runs no update block: a pipeline with state (\`state { ... }\`) stops with an error unless you keep the
# state outside verl (in your reward function, calling compute_update each step) and set this to True.
VERL_STATE_OUTSIDE = False`]),
    ...(x.loss?.args.some((a) => a.feed === 'rollout_logp') === true ? [ROLLOUT_SETUP, ROLLOUT_HELPER] : []),
    HELPERS,
  ];
  if (x.advantage !== null) parts.push(advantageFn(x, x.advantage));
  if (x.loss !== null) parts.push(lossFn(x, x.loss));
  return { imports, code: parts.join('\n\n\n') };
}
