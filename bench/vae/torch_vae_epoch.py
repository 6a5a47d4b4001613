#!/usr/bin/env python3
"""PyTorch's side of issue #4's speed figure: seconds per training epoch of TabSyn's VAE on the
CPU, with the reference's defaults (d_token 4, 2 layers, 1 head, FFN 128, batch 4096, Adam 1e-3),
for the table a token stream describes (its float fields are the numerical tokens, its int
fields the categorical ones with their cardinalities; the rows' values are used as they are).

The model is written here from research/tabsyn.md §2 (the same architecture as
amazon-science/tabsyn's vae/model.py: tokenizer with a [CLS] row and no [CLS] bias, two encoder
transformers for mu and log-variance, a decoder transformer on z without [CLS], a bias-free
per-column reconstruction and a Linear head per categorical column; pre-norm layers, layer 0
without the pre-attention LayerNorm, one head without output projection; loss MSE + CE + beta KL).
An epoch = shuffled batches over 90% of the rows (forward, backward, Adam) plus one evaluation
pass over the other 10%, as tab-vae train does.

Usage: bench/.venv/bin/python bench/vae/torch_vae_epoch.py TOKENS.bin [--threads 1 2] [--epochs 3]
"""
import argparse, math, os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
from read_stream import read_stream

class Tokenizer(nn.Module):
    def __init__(self, n, cats, d):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n + 1, d).uniform_(-0.5, 0.5))
        self.bias = nn.Parameter(torch.empty(n + len(cats), d).uniform_(-0.5, 0.5))
        self.emb = nn.Embedding(sum(cats), d)
        nn.init.uniform_(self.emb.weight, -0.5, 0.5)
        self.register_buffer("offsets", torch.tensor([0] + list(np.cumsum(cats)[:-1]), dtype=torch.long))

    def forward(self, x_num, x_cat):
        ones = torch.ones(len(x_num), 1)
        x = self.weight[None] * torch.cat([ones, x_num], 1)[:, :, None]
        x = torch.cat([x, self.emb(x_cat + self.offsets[None])], 1)
        bias = torch.cat([torch.zeros(1, self.bias.shape[1]), self.bias])
        return x + bias[None]

class Layer(nn.Module):
    def __init__(self, d, hidden, first):
        super().__init__()
        self.norm0 = None if first else nn.LayerNorm(d)
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.norm1 = nn.LayerNorm(d)
        self.l0, self.l1 = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        h = x if self.norm0 is None else self.norm0(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(q.shape[-1]), -1) @ v
        x = x + a
        return x + self.l1(F.relu(self.l0(self.norm1(x))))

class Transformer(nn.Module):
    def __init__(self, d, hidden, layers):
        super().__init__()
        self.layers = nn.ModuleList(Layer(d, hidden, i == 0) for i in range(layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

class VAE(nn.Module):
    def __init__(self, n, cats, d=4, hidden=128, layers=2):
        super().__init__()
        self.n, self.cats = n, cats
        self.tok = Tokenizer(n, cats, d)
        self.mu, self.logvar = Transformer(d, hidden, layers), Transformer(d, hidden, layers)
        self.dec = Transformer(d, hidden, layers)
        self.recon = nn.Parameter(torch.empty(n, d))
        nn.init.xavier_uniform_(self.recon, gain=1 / math.sqrt(2))
        self.heads = nn.ModuleList(nn.Linear(d, k) for k in cats)

    def forward(self, x_num, x_cat, sample=True):
        t = self.tok(x_num, x_cat)
        mu, lv = self.mu(t), self.logvar(t)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu) if sample else mu
        h = self.dec(z[:, 1:])
        x_hat = (h[:, :self.n] * self.recon[None]).sum(-1)
        logits = [head(h[:, self.n + j]) for j, head in enumerate(self.heads)]
        return x_hat, logits, mu, lv

def loss_fn(model, x_num, x_cat, beta, sample=True):
    x_hat, logits, mu, lv = model(x_num, x_cat, sample)
    mse = F.mse_loss(x_hat, x_num)
    ce = sum(F.cross_entropy(l, x_cat[:, j]) for j, l in enumerate(logits)) / max(len(logits), 1)
    kl = -0.5 * torch.mean(1 + lv - mu.pow(2) - lv.exp())
    return mse + ce + beta * kl, mse, ce

def main():
    p = argparse.ArgumentParser()
    p.add_argument("tokens")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--epochs", type=int, default=3)
    a = p.parse_args()
    header, floats, ints = read_stream(a.tokens)
    cats = [f.get("cardinality") or 2 for f in header["layout"]["intFields"]]
    x_num, x_cat = torch.from_numpy(floats.copy()), torch.from_numpy(ints.astype(np.int64))
    rows = len(x_num)
    held = round(0.1 * rows)
    order = torch.randperm(rows, generator=torch.Generator().manual_seed(0))
    val, train = order[:held], order[held:]
    for threads in a.threads:
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        model = VAE(floats.shape[1], cats)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        times = []
        for epoch in range(a.epochs + 1):  # the first is a warm-up
            start = time.perf_counter()
            model.train()
            perm = train[torch.randperm(len(train))]
            for i in range(0, len(perm), 4096):
                b = perm[i:i + 4096]
                loss, _, _ = loss_fn(model, x_num[b], x_cat[b], 1e-2)
                opt.zero_grad()
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                for i in range(0, len(val), 4096):
                    b = val[i:i + 4096]
                    loss_fn(model, x_num[b], x_cat[b], 1e-2, sample=False)
            if epoch:
                times.append(time.perf_counter() - start)
        print(f"pytorch {torch.__version__} threads {threads}: {len(train)} training rows, "
              f"{len(cats) + floats.shape[1] + 1} tokens; seconds/epoch median {np.median(times):.3f} "
              f"min {min(times):.3f} (load {os.getloadavg()[0]:.2f})", flush=True)

if __name__ == "__main__":
    main()
