/**
 * The Python helpers that ops' PyTorch forms call (`OpDef.torch`), each with the semantics of the
 * op's TF.js lowering, gradients included: masked entries are selected with `torch.where`, never
 * multiplied away, so garbage (even inf) in padding reaches neither values nor gradients, and a
 * denominator that can be zero is replaced before dividing. An exported file carries only the
 * helpers its code calls (and those they call), in this order.
 */

/** One helper: its name, the helpers it calls, and its Python source. */
interface Helper {
  readonly name: string;
  readonly uses: readonly string[];
  readonly py: string;
}

const HELPERS: readonly Helper[] = [
  {
    name: '_t', uses: [],
    py: `def _t(v, like):
    """v as a tensor on like's device: a Python bool as bool, a number in like's dtype."""
    if isinstance(v, torch.Tensor):
        return v
    return torch.as_tensor(v, dtype=torch.bool if isinstance(v, bool) else like.dtype, device=like.device)`,
  },
  {
    name: '_full', uses: [],
    py: `def _full(shape, value, like):
    """A tensor of this shape filled with value, in like's dtype and device."""
    return torch.full(shape, float(value), dtype=like.dtype, device=like.device)`,
  },
  {
    name: '_where', uses: ['_t'],
    py: `def _where(cond, a, b, like):
    """select(cond, a, b): where cond is true a, else b (Python numbers and bools allowed)."""
    return torch.where(_t(cond, like), _t(a, like), _t(b, like))`,
  },
  {
    name: '_minimum', uses: [],
    py: `def _minimum(a, b):
    """Elementwise min; on ties the gradient goes to a (as TF.js's Minimum)."""
    return torch.where(a <= b, a, b)`,
  },
  {
    name: '_maximum', uses: [],
    py: `def _maximum(a, b):
    """Elementwise max; on ties the gradient goes to a (as TF.js's Maximum)."""
    return torch.where(a >= b, a, b)`,
  },
  {
    name: '_masked', uses: [],
    py: `def _masked(x, w):
    """x times the weight w where w is non-zero, else exactly 0 (padding cannot leak)."""
    if w is None:
        return x
    return torch.where(w != 0, x * w, torch.zeros_like(x))`,
  },
  {
    name: '_sum', uses: ['_masked'],
    py: `def _sum(x, dims, w=None):
    """sum(x, over dims, where w)."""
    return torch.sum(_masked(x, w), dim=dims)`,
  },
  {
    name: '_count', uses: [],
    py: `def _count(x, dims, w, keepdim=False):
    """count(x, over dims, where w): the sum of the weights."""
    return torch.sum(torch.broadcast_to(w, x.shape).to(x.dtype), dim=dims, keepdim=keepdim)`,
  },
  {
    name: '_safe_div', uses: [],
    py: `def _safe_div(a, b, ok):
    """a / b where ok, else 0, with a gradient free of NaN."""
    return torch.where(ok, a / torch.where(ok, b, torch.ones_like(b)), torch.zeros_like(a))`,
  },
  {
    name: '_mean', uses: ['_masked', '_count', '_safe_div'],
    py: `def _mean(x, dims, w=None, keepdim=False):
    """mean(x, over dims, where w): sum(x w) / sum(w), and 0 when sum(w) is 0."""
    n = _count(x, dims, torch.ones_like(x) if w is None else w, keepdim)
    return _safe_div(torch.sum(_masked(x, w), dim=dims, keepdim=keepdim), n, n != 0)`,
  },
  {
    name: '_var', uses: ['_mean', '_count', '_safe_div', '_masked'],
    py: `def _var(x, dims, w=None, correction=1):
    """var(x, over dims, where w, correction); 0 when n <= correction."""
    d = (x - _mean(x, dims, w, keepdim=True)) ** 2
    n = _count(x, dims, torch.ones_like(x) if w is None else w) - correction
    return _safe_div(torch.sum(_masked(d, w), dim=dims), n, n > 0)`,
  },
  {
    name: '_std', uses: ['_var'],
    py: `def _std(x, dims, w=None, correction=1):
    """sqrt(var), with gradient 0 (not inf * 0 = NaN) where the variance is 0."""
    v = _var(x, dims, w, correction)
    pos = v > 0
    return torch.where(pos, torch.sqrt(torch.where(pos, v, torch.ones_like(v))), torch.zeros_like(v))`,
  },
  {
    name: '_amax', uses: [],
    py: `def _amax(x, dims, w=None):
    """max(x, over dims, where w); -inf when nothing is selected."""
    if w is not None:
        x = torch.where(w != 0, x, torch.full_like(x, -float("inf")))
    return torch.amax(x, dim=dims)`,
  },
  {
    name: '_amin', uses: [],
    py: `def _amin(x, dims, w=None):
    """min(x, over dims, where w); +inf when nothing is selected."""
    if w is not None:
        x = torch.where(w != 0, x, torch.full_like(x, float("inf")))
    return torch.amin(x, dim=dims)`,
  },
  {
    name: '_shift', uses: [],
    py: `def _shift(x, dim):
    """y_t = x_{t+1} along dim, and 0 at the last position."""
    n = x.shape[dim]
    return torch.cat([x.narrow(dim, 1, n - 1), torch.zeros_like(x.narrow(dim, 0, 1))], dim)`,
  },
  {
    name: '_discounted_cumsum', uses: [],
    py: `def _discounted_cumsum(x, gamma, dim):
    """y_t = x_t + gamma y_{t+1} along dim (a reverse scan), differentiable in x and gamma."""
    xs = x.unbind(dim)
    acc = torch.zeros_like(xs[-1])
    out = []
    for t in range(len(xs) - 1, -1, -1):
        acc = xs[t] + gamma * acc
        out.append(acc)
    return torch.stack(out[::-1], dim)`,
  },
  {
    name: '_rank', uses: [],
    py: `def _rank(x, dim):
    """rank(x, over dim): how many entries of x's line along dim are strictly smaller (no gradient)."""
    return (x.unsqueeze(dim) < x.unsqueeze(dim + 1)).sum(dim + 1).to(x.dtype)`,
  },
  {
    name: '_rank_desc', uses: [],
    py: `def _rank_desc(x, dims, w=None):
    """rank_desc(x, over dims, where w): how many entries along dims (where w != 0) are strictly larger (no gradient)."""
    kept = [d for d in range(x.dim()) if d not in dims]
    perm = kept + list(dims)
    v = x.permute(perm)
    lines = v.reshape(-1, int(torch.tensor([x.shape[d] for d in dims]).prod()))
    if w is None:
        weight = torch.ones_like(lines)
    else:
        weight = (torch.broadcast_to(w, x.shape).permute(perm).reshape(lines.shape) != 0).to(x.dtype)
    counts = ((lines.unsqueeze(1) > lines.unsqueeze(2)).to(x.dtype) * weight.unsqueeze(1)).sum(2)
    return counts.reshape(v.shape).permute([perm.index(i) for i in range(x.dim())])`,
  },
  {
    name: '_group_mean', uses: [],
    py: `def _group_mean(x, key, dim):
    """group_mean(x, key, over dim): mean of the entries of x's line along dim sharing this entry's key."""
    same = (key.unsqueeze(dim + 1) == key.unsqueeze(dim)).to(x.dtype)
    return torch.sum(same * x.unsqueeze(dim), dim=dim + 1) / torch.sum(same, dim=dim + 1)`,
  },
  {
    name: '_lag', uses: [],
    py: `def _lag(x, dim):
    """lag(x, over dim): y_t = x_{t-1}, 0 at the start."""
    n = x.shape[dim]
    return torch.cat([torch.zeros_like(x.narrow(dim, 0, 1)), x.narrow(dim, 0, n - 1)], dim)`,
  },
  {
    name: '_group_sum', uses: [],
    py: `def _group_sum(x, key, dims):
    """group_sum(x, key, over dims): sum of the entries of x's block along dims sharing this entry's key."""
    rest = [d for d in range(x.dim()) if d not in dims]
    perm = rest + list(dims)
    inv = [perm.index(i) for i in range(len(perm))]
    xm = x.permute(perm)
    shape = xm.shape
    a = len(rest)
    xs = xm.reshape(*shape[:a], -1)
    ks = key.permute(perm).reshape(*shape[:a], -1)
    same = (ks.unsqueeze(a + 1) == ks.unsqueeze(a)).to(x.dtype)
    return torch.sum(same * xs.unsqueeze(a), dim=a + 1).reshape(shape).permute(inv)`,
  },
  {
    name: '_fill', uses: [],
    py: `def _fill(x, flag, dim, reverse):
    """fill_forward / fill_backward along dim: x at the last (reverse: first) flagged position at or before (after) each entry; 0 if none."""
    f = (flag != 0).to(x.dtype)
    c = torch.flip(torch.cumsum(torch.flip(f, [dim]), dim), [dim]) if reverse else torch.cumsum(f, dim)
    pick = (c.unsqueeze(dim + 1) == c.unsqueeze(dim)).to(x.dtype) * f.unsqueeze(dim)
    return torch.sum(pick * x.unsqueeze(dim), dim=dim + 1)`,
  },
  {
    name: '_pair_logsigmoid', uses: [],
    py: `def _pair_logsigmoid(x, key, scale, dim):
    """pair_logsigmoid(x, key, scale, over dim): sum over j with key_j > key_i of log sigmoid(scale_i (x_i - x_j))."""
    later = (key.unsqueeze(dim) > key.unsqueeze(dim + 1)).to(x.dtype)
    z = torch.broadcast_to(scale, x.shape).unsqueeze(dim + 1) * (x.unsqueeze(dim + 1) - x.unsqueeze(dim))
    return torch.sum(later * torch.nn.functional.logsigmoid(z), dim=dim + 1)`,
  },
];

const BY_NAME = new Map(HELPERS.map((h) => [h.name, h]));

/** The Python source of the helpers `code` calls, with their dependencies, in a fixed order. */
export function helpersFor(code: string): string {
  const want = new Set<string>();
  const add = (name: string): void => {
    if (want.has(name)) return;
    want.add(name);
    for (const u of BY_NAME.get(name)?.uses ?? []) add(u);
  };
  for (const h of HELPERS) if (new RegExp(`(?<![\\w.])${h.name}\\(`).test(code)) add(h.name);
  return HELPERS.filter((h) => want.has(h.name)).map((h) => h.py).join('\n\n\n');
}

/** Names of every helper (tests check that each is called by some op's form). */
export const HELPER_NAMES: readonly string[] = HELPERS.map((h) => h.name);
