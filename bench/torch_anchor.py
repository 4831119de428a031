# B6 anchor: the same loss + d loss / d logp in PyTorch eager on the CPU (2 threads), from the
# formulas of stdlib/grpo.rlp and stdlib/dapo.rlp. Prints one JSON line: {"name": ms}.
# Run by bench/fusion.ts with Debian's /usr/bin/python3 and python3-torch; not a dependency.
import json, sys, time
import torch

torch.set_num_threads(2)

if sys.argv[1] == "logprob":
    # B2 anchor: log_softmax + pick of each row's token, forward + d/d logits, N x V.
    N, V = int(sys.argv[2]), int(sys.argv[3])
    g = torch.Generator().manual_seed(0)
    z = 6 * torch.rand(N, V, generator=g) - 3
    ids = torch.randint(0, V, (N,), generator=g)
    cot = torch.rand(N, generator=g) - 0.5
    ts = []
    for i in range(6):
        x = z.clone().requires_grad_(True)
        t0 = time.perf_counter()
        lp = torch.log_softmax(x, -1).gather(1, ids[:, None])[:, 0]
        (lp * cot).sum().backward()
        _ = x.grad[0, 0].item()
        ts.append((time.perf_counter() - t0) * 1000)
    ts = sorted(ts[1:])
    print(json.dumps({"logprob": ts[len(ts) // 2]}))
    sys.exit(0)

B, G, T = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
g = torch.Generator().manual_seed(0)
logp = -2 * torch.rand(B, G, T, generator=g)
old = -2 * torch.rand(B, G, T, generator=g)
ref = -2 * torch.rand(B, G, T, generator=g)
lengths = 1 + (torch.rand(B, G, generator=g) * T).long()
mask = (torch.arange(T)[None, None, :] < lengths[:, :, None]).float()
reward = (torch.rand(B, G, generator=g) < 0.5).float()


def advantage(eps):
    return (reward - reward.mean(1, keepdim=True)) / (reward.std(1, keepdim=True) + eps)


def grpo(lp):
    A = advantage(1e-6)[:, :, None]
    ratio = torch.exp(lp - old)
    surr = torch.minimum(ratio * A, torch.clamp(ratio, 0.8, 1.2) * A)
    d = ref - lp
    per = -surr + 0.04 * (torch.exp(d) - d - 1)
    n = mask.sum(2)
    seq = torch.where(n > 0, (per * mask).sum(2) / n.clamp(min=1), torch.zeros_like(n))
    return seq.sum() / (B * G)


def dapo(lp):
    A = advantage(1e-6)[:, :, None]
    ratio = torch.exp(lp - old)
    per = -torch.minimum(ratio * A, torch.clamp(ratio, 0.8, 1.28) * A)
    return (per * mask).sum() / mask.sum()


out = {}
for name, f in (("grpo", grpo), ("dapo", dapo)):
    ts = []
    for i in range(6):
        x = logp.clone().requires_grad_(True)
        t0 = time.perf_counter()
        loss = f(x)
        loss.backward()
        _ = x.grad[0, 0, 0].item()
        ts.append((time.perf_counter() - t0) * 1000)
    ts = sorted(ts[1:])
    out[name] = ts[len(ts) // 2]
print(json.dumps(out))
