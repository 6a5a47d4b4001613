#!/usr/bin/env python3
"""PyTorch's side of the issue-#3 speed benchmark: one training step of each model, on the CPU.

Cases (shapes from research/tabsyn.md §2-3 and research/ctgan-infogan.md §1.3-1.6):
  denoiser  TabSyn's MLP main path 60 -> 1024 -> 2048 -> 2048 -> 1024 -> 60, batch 4096, SiLU
            after the 2nd, 3rd and 4th Linear (as MLPDiffusion: the first Linear is followed by
            the noise-embedding sum, not an activation; the embedding MLP itself is left out),
            MSE loss, forward + backward + Adam(lr 1e-3).
  vae       batch 4096, 16 tokens of width 4, two FT-Transformer pre-norm blocks as in TabSyn:
            one head, Q/K/V Linear(4,4) with bias and no output projection, layer 0 without the
            pre-attention LayerNorm, FFN LayerNorm -> Linear(4,128) -> ReLU -> Linear(128,4),
            plain residuals; then a Linear(4,4) head per token, MSE loss, + backward + Adam.
  ctgan     CTGAN on adult's widths: data 157 (6 continuous columns as 1 tanh + 8,8,8,8,8,7
            modes; 9 discrete columns 9,16,7,15,6,5,2,42,2), cond 104, z 128, batch 500, pac 10.
            Generator 232 -> Residual(256) -> Residual(256) -> Linear(744 -> 157), Residual =
            concat(ReLU(BatchNorm(Linear(h))), h); tanh / Gumbel-softmax(tau 0.2) per span.
            Critic Linear(2610,256) LeakyReLU(0.2) Dropout(0.5) Linear(256,256) LeakyReLU
            Dropout Linear(256,1). One step = one critic update (Wasserstein loss + gradient
            penalty with create_graph=True, lambda 10, one epsilon per pac group) + one
            generator update (-mean D + conditional cross-entropy). Adam lr 2e-4, betas
            (0.5, 0.9), weight decay 1e-6.
            Two variants: "ctgan" is lean (the generator's forward in the critic update runs
            under no_grad and the critic's parameters get no gradient in the generator update,
            which is what a hand-written core does); "ctgan_ref" does what sdv-dev CTGAN's fit
            does (backward also flows into the generator in the critic update and into the
            critic's weights in the generator update; those gradients are zeroed unused).
  mm        bare torch.mm at the denoiser's 15 GEMM shapes (forward Y = X W^T, backward
            dX = dY W and dW = dY^T X per layer), the same transposes nn.Linear uses.

FLOPs are counted analytically from the matrix products only: 2*m*n*k per GEMM (attention's
QK^T and AV included), a network pass's backward counted as 2x its forward, the gradient
penalty's input gradient as 1x and its double backward as 2x. Elementwise work is not counted.

Times are wall-clock per step, the median (and minimum) of --steps steps after --warmup steps.
Other jobs on the machine slow this down: the load average is recorded with each thread count.

Usage:
  bench/.venv/bin/python bench/torch_reference.py --threads 1 2 [--json bench/out/torch.json]
      [--cases denoiser vae ctgan ctgan_ref mm] [--steps N] [--warmup W]
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_STEPS = {"denoiser": 10, "vae": 30, "ctgan": 50, "ctgan_ref": 50, "mm": 10}
ALL_CASES = ["mm", "denoiser", "vae", "ctgan", "ctgan_ref"]


def gemm_flop(m, n, k):
    return 2.0 * m * n * k


# ----------------------------------------------------------------------------------- denoiser

DENOISER_BATCH = 4096
DENOISER_WIDTHS = [60, 1024, 2048, 2048, 1024, 60]


class Denoiser(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x):
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if 0 < i < last:
                x = F.silu(x)
        return x


def denoiser_forward_flop(batch=DENOISER_BATCH, widths=DENOISER_WIDTHS):
    return sum(gemm_flop(batch, b, a) for a, b in zip(widths[:-1], widths[1:]))


def make_denoiser():
    model = Denoiser(DENOISER_WIDTHS)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(DENOISER_BATCH, DENOISER_WIDTHS[0])
    target = torch.randn(DENOISER_BATCH, DENOISER_WIDTHS[-1])

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.mse_loss(model(x), target)
        loss.backward()
        opt.step()
        return loss

    return step, 3.0 * denoiser_forward_flop()


# ---------------------------------------------------------------------------------------- vae

VAE_BATCH, VAE_TOKENS, VAE_D, VAE_FFN, VAE_LAYERS = 4096, 16, 4, 128, 2


class Block(nn.Module):
    """TabSyn's FT-Transformer layer (tabsyn.md §2.3); `prenorm_attention` is False for layer 0."""

    def __init__(self, d, ffn, prenorm_attention):
        super().__init__()
        self.norm0 = nn.LayerNorm(d) if prenorm_attention else None
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        for lin in (self.q, self.k, self.v):
            nn.init.zeros_(lin.bias)
        self.norm1 = nn.LayerNorm(d)
        self.ff1, self.ff2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.scale = 1.0 / (d ** 0.5)

    def forward(self, x):
        h = self.norm0(x) if self.norm0 is not None else x
        q, k, v = self.q(h), self.k(h), self.v(h)
        attn = torch.softmax(torch.matmul(q, k.transpose(1, 2)) * self.scale, dim=-1)
        x = x + torch.matmul(attn, v)
        return x + self.ff2(F.relu(self.ff1(self.norm1(x))))


class VaeCase(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList(Block(VAE_D, VAE_FFN, i > 0) for i in range(VAE_LAYERS))
        self.head = nn.Linear(VAE_D, VAE_D)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def vae_forward_flop(b=VAE_BATCH, t=VAE_TOKENS, d=VAE_D, ffn=VAE_FFN, layers=VAE_LAYERS):
    rows = b * t
    per_block = (3 * gemm_flop(rows, d, d)          # Q, K, V
                 + 2 * b * gemm_flop(t, t, d)        # Q K^T and A V
                 + gemm_flop(rows, ffn, d) + gemm_flop(rows, d, ffn))
    return layers * per_block + gemm_flop(rows, d, d)


def make_vae():
    model = VaeCase()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(VAE_BATCH, VAE_TOKENS, VAE_D)
    target = torch.randn(VAE_BATCH, VAE_TOKENS, VAE_D)

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.mse_loss(model(x), target)
        loss.backward()
        opt.step()
        return loss

    return step, 3.0 * vae_forward_flop()


# -------------------------------------------------------------------------------------- ctgan

CT_BATCH, CT_PAC, CT_Z = 500, 10, 128
CT_CONT_MODES = [8, 8, 8, 8, 8, 7]                    # adult's 6 continuous columns (assumed)
CT_DISCRETE = [9, 16, 7, 15, 6, 5, 2, 42, 2]          # adult's 9 discrete columns
CT_SPANS = ([s for k in CT_CONT_MODES for s in ((1, "tanh"), (k, "softmax"))]
            + [(c, "softmax") for c in CT_DISCRETE])
CT_DATA = sum(w for w, _ in CT_SPANS)                 # 157
CT_COND = sum(CT_DISCRETE)                            # 104
CT_GEN_DIMS, CT_DIS_DIMS = (256, 256), (256, 256)


class Residual(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.fc, self.bn = nn.Linear(i, o), nn.BatchNorm1d(o)

    def forward(self, x):
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    def __init__(self, width_in, dims, data_dim):
        super().__init__()
        blocks, w = [], width_in
        for d in dims:
            blocks.append(Residual(w, d))
            w += d
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Linear(w, data_dim)

    def forward(self, x):
        return self.out(self.blocks(x))


class Critic(nn.Module):
    def __init__(self, width_in, dims, pac):
        super().__init__()
        layers, w = [], width_in * pac
        for d in dims:
            layers += [nn.Linear(w, d), nn.LeakyReLU(0.2), nn.Dropout(0.5)]
            w = d
        layers.append(nn.Linear(w, 1))
        self.pac, self.width = pac, width_in * pac
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x.reshape(-1, self.width))


def activate(raw):
    parts, at = [], 0
    for width, kind in CT_SPANS:
        piece = raw[:, at:at + width]
        parts.append(torch.tanh(piece) if kind == "tanh" else F.gumbel_softmax(piece, tau=0.2))
        at += width
    return torch.cat(parts, dim=1)


def gen_forward_flop(rows=CT_BATCH):
    total, w = 0.0, CT_Z + CT_COND
    for d in CT_GEN_DIMS:
        total += gemm_flop(rows, d, w)
        w += d
    return total + gemm_flop(rows, CT_DATA, w)


def critic_forward_flop(rows=CT_BATCH):
    groups, total, w = rows // CT_PAC, 0.0, (CT_DATA + CT_COND) * CT_PAC
    for d in CT_DIS_DIMS:
        total += gemm_flop(groups, d, w)
        w = d
    return total + gemm_flop(groups, 1, w)


def ctgan_flop(lean):
    g, d = gen_forward_flop(), critic_forward_flop()
    gp = 4 * d                                   # forward, input gradient, double backward (2x)
    critic_update = (g if lean else 3 * g) + 2 * 3 * d + gp
    generator_update = 3 * g + 3 * d
    return critic_update + generator_update


def make_ctgan(lean):
    gen = Generator(CT_Z + CT_COND, CT_GEN_DIMS, CT_DATA)
    critic = Critic(CT_DATA + CT_COND, CT_DIS_DIMS, CT_PAC)
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.9), weight_decay=1e-6)
    opt_d = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.5, 0.9), weight_decay=1e-6)
    critic_params = list(critic.parameters())

    # A fixed pool of conditions and "real" rows; drawing them is data-pipeline work, not timed.
    cond_offsets = [sum(CT_DISCRETE[:i]) for i in range(len(CT_DISCRETE))]
    span_start, at = {}, 0
    for i, (w, kind) in enumerate(CT_SPANS):
        span_start[i] = at
        at += w
    discrete_span = [2 * len(CT_CONT_MODES) + j for j in range(len(CT_DISCRETE))]

    def draw_cond(rows):
        col = torch.randint(len(CT_DISCRETE), (rows,))
        cat = torch.stack([torch.randint(CT_DISCRETE[c], ()) for c in col.tolist()])
        cond = torch.zeros(rows, CT_COND)
        cond[torch.arange(rows), torch.tensor(cond_offsets)[col] + cat] = 1.0
        return cond, col

    pool = []
    for _ in range(4):
        c1, col1 = draw_cond(CT_BATCH)
        c2, _ = draw_cond(CT_BATCH)
        real = activate(torch.randn(CT_BATCH, CT_DATA)).detach()
        mask = F.one_hot(col1, len(CT_DISCRETE)).float()
        pool.append((c1, c2, mask, real))
    counter = [0]

    def cond_loss(raw, cond, mask):
        # as CTGAN's _cond_loss: cross-entropy of every discrete span over the whole batch,
        # kept only where the row was conditioned on that column
        losses = []
        for j, width in enumerate(CT_DISCRETE):
            s, c = span_start[discrete_span[j]], cond_offsets[j]
            target = cond[:, c:c + width].argmax(dim=1)
            losses.append(F.cross_entropy(raw[:, s:s + width], target, reduction="none"))
        return (torch.stack(losses, dim=1) * mask).sum() / raw.shape[0]

    def gradient_penalty(real_cat, fake_cat):
        eps = torch.rand(CT_BATCH // CT_PAC, 1, 1).expand(-1, CT_PAC, real_cat.shape[1])
        eps = eps.reshape(-1, real_cat.shape[1])
        inter = eps * real_cat + (1 - eps) * fake_cat
        if not inter.requires_grad:
            inter.requires_grad_(True)
        out = critic(inter)
        grad = torch.autograd.grad(out, inter, torch.ones_like(out), create_graph=True,
                                   retain_graph=True)[0]
        norms = grad.reshape(-1, CT_PAC * real_cat.shape[1]).norm(2, dim=1)
        return 10.0 * ((norms - 1) ** 2).mean()

    def step():
        c1, c2, mask, real = pool[counter[0] % len(pool)]
        counter[0] += 1
        # critic update
        z = torch.randn(CT_BATCH, CT_Z)
        if lean:
            with torch.no_grad():
                fake = activate(gen(torch.cat([z, c1], dim=1)))
        else:
            fake = activate(gen(torch.cat([z, c1], dim=1)))
        fake_cat = torch.cat([fake, c1], dim=1)
        real_cat = torch.cat([real, c2], dim=1)
        y_fake, y_real = critic(fake_cat), critic(real_cat)
        pen = gradient_penalty(real_cat, fake_cat)
        loss_d = -(y_real.mean() - y_fake.mean())
        opt_d.zero_grad(set_to_none=False)
        pen.backward(retain_graph=True)
        loss_d.backward()
        opt_d.step()
        # generator update (fresh noise; the condition pool is reused, which costs nothing)
        z = torch.randn(CT_BATCH, CT_Z)
        if lean:
            for p in critic_params:
                p.requires_grad_(False)
        raw = gen(torch.cat([z, c1], dim=1))
        y_fake = critic(torch.cat([activate(raw), c1], dim=1))
        loss_g = -y_fake.mean() + cond_loss(raw, c1, mask)
        opt_g.zero_grad(set_to_none=False)
        loss_g.backward()
        opt_g.step()
        if lean:
            for p in critic_params:
                p.requires_grad_(True)
        return loss_g

    return step, ctgan_flop(lean)


# ------------------------------------------------------------------------------------ bare mm

def denoiser_gemm_shapes(batch=DENOISER_BATCH, widths=DENOISER_WIDTHS):
    """(name, m, n, k) of the 15 products of one step, in the transposes nn.Linear uses."""
    shapes = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        shapes.append((f"L{i} {a}->{b} fwd Y=X.W^T", "NT", batch, b, a))
        shapes.append((f"L{i} {a}->{b} bwd dX=dY.W", "NN", batch, a, b))
        shapes.append((f"L{i} {a}->{b} bwd dW=dY^T.X", "TN", b, a, batch))
    return shapes


def run_mm(steps, warmup):
    rows = []
    total_ms = 0.0
    total_flop = 0.0
    for name, trans, m, n, k in denoiser_gemm_shapes():
        if trans == "NT":       # X[m,k] @ W[n,k]^T
            a, b = torch.randn(m, k), torch.randn(n, k).t()
        elif trans == "NN":     # dY[m,k] @ W[k,n]
            a, b = torch.randn(m, k), torch.randn(k, n)
        else:                   # dY[k,m]^T @ X[k,n]
            a, b = torch.randn(k, m).t(), torch.randn(k, n)
        out = torch.empty(m, n)
        times, _ = time_steps(lambda: torch.mm(a, b, out=out), steps, warmup)
        ms = statistics.median(times)
        flop = gemm_flop(m, n, k)
        rows.append({"name": name,
                     "trans": trans, "m": m, "n": n, "k": k, "ms": ms,
                     "gflops": flop / ms / 1e6})
        total_ms += ms
        total_flop += flop
    return {"shapes": rows, "ms_per_step": total_ms, "gflop": total_flop / 1e9,
            "gflops": total_flop / total_ms / 1e6}


# ------------------------------------------------------------------------------------- timing

def time_steps(fn, steps, warmup):
    """Wall milliseconds of each timed step, and this process's CPU milliseconds per timed step."""
    for _ in range(warmup):
        fn()
    times = []
    cpu0 = time.process_time()
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return times, (time.process_time() - cpu0) * 1e3 / steps


def run_case(name, steps, warmup):
    torch.manual_seed(0)
    if name == "denoiser":
        step, flop = make_denoiser()
    elif name == "vae":
        step, flop = make_vae()
    elif name == "ctgan":
        step, flop = make_ctgan(lean=True)
    elif name == "ctgan_ref":
        step, flop = make_ctgan(lean=False)
    else:
        raise ValueError(name)
    times, cpu_ms = time_steps(step, steps, warmup)
    ms = statistics.median(times)
    return {"ms_per_step": ms, "ms_min": min(times), "ms_max": max(times), "steps": steps,
            "warmup": warmup, "cpu_ms_per_step": cpu_ms, "gflop": flop / 1e9,
            "gflops": flop / ms / 1e6}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--cases", nargs="+", default=ALL_CASES, choices=ALL_CASES)
    ap.add_argument("--steps", type=int, help="timed steps per case (default per case)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args()

    torch.set_default_dtype(torch.float32)
    report = {
        "torch": torch.__version__, "python": platform.python_version(), "dtype": "float32",
        "blas": "mkl" if torch.backends.mkl.is_available() else "other",
        "cpu_count": os.cpu_count(),
        "flop_convention": "matrix products only, 2*m*n*k per GEMM; backward = 2x forward; "
                           "gradient penalty = forward + input gradient (1x) + double backward (2x)",
        "shapes": {
            "denoiser": {"batch": DENOISER_BATCH, "widths": DENOISER_WIDTHS,
                         "silu_after_layers": [1, 2, 3]},
            "vae": {"batch": VAE_BATCH, "tokens": VAE_TOKENS, "d_token": VAE_D,
                    "ffn": VAE_FFN, "layers": VAE_LAYERS, "heads": 1, "head": [VAE_D, VAE_D]},
            "ctgan": {"batch": CT_BATCH, "pac": CT_PAC, "z": CT_Z, "data_dim": CT_DATA,
                      "cond_dim": CT_COND, "generator_dims": list(CT_GEN_DIMS),
                      "critic_dims": list(CT_DIS_DIMS),
                      "spans": [[w, k] for w, k in CT_SPANS]},
        },
        "results": {},
    }
    for t in args.threads:
        torch.set_num_threads(t)
        entry = {"loadavg_before": list(os.getloadavg())}
        print(f"# torch {torch.__version__}, {t} thread(s), float32, "
              f"load average {entry['loadavg_before'][0]:.2f}", flush=True)
        for case in args.cases:
            steps = args.steps or DEFAULT_STEPS[case]
            load = os.getloadavg()[0]
            if case == "mm":
                r = run_mm(steps, args.warmup)
                for s in r["shapes"]:
                    print(f"  mm  {s['name']:<28} m={s['m']:<5} n={s['n']:<5} k={s['k']:<5} "
                          f"{s['ms']:8.2f} ms  {s['gflops']:7.1f} GFLOP/s", flush=True)
                print(f"mm        (15 denoiser GEMMs) {r['ms_per_step']:9.2f} ms/step  "
                      f"{r['gflop']:8.2f} GFLOP  {r['gflops']:7.1f} GFLOP/s  (load {load:.2f})",
                      flush=True)
            else:
                r = run_case(case, steps, args.warmup)
                print(f"{case:<10}{'':20}{r['ms_per_step']:9.2f} ms/step  "
                      f"{r['gflop']:8.3f} GFLOP  {r['gflops']:7.1f} GFLOP/s  "
                      f"(min {r['ms_min']:.2f} ms, CPU {r['cpu_ms_per_step']:.1f} ms/step, "
                      f"median of {steps}, load {load:.2f})", flush=True)
            r["loadavg_1min_before"] = load
            entry[case] = r
        entry["loadavg_after"] = list(os.getloadavg())
        report["results"][str(t)] = entry
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
