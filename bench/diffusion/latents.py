#!/usr/bin/env python3
"""Latent streams for the diffusion bench, without tab-vae: write a toy set, compare two sets.

  latents.py toy ROWS DIM SEED > z.bin       a correlated mixture (4 clusters) in DIM dims
  latents.py compare real.bin synth.bin      means, covariances, 1-D KS and cluster shares

Reads and writes the tabpipe stream format (docs/stream-format.md) with numpy + zstandard.
"""
import json
import struct
import sys

import numpy as np
import zstandard

MAGIC = bytes([0x89, 0x54, 0x41, 0x42, 0x0D, 0x0A, 0x1A, 0x0A])


def frame(payload):
    c = zstandard.ZstdCompressor(level=1, write_checksum=True, write_content_size=True)
    return c.compress(payload)


def record(tag, count, payload):
    data = frame(payload)
    return tag + struct.pack("<II", count, len(data)) + data


def write_latents(out, z, model=None, encoder=None):
    rows, dim = z.shape
    header = {
        "kind": "latents",
        "layout": {"floatFields": [{"name": f"z{j}", "role": "latent"} for j in range(dim)], "intFields": []},
        "provenance": [{"tool": "latents.py", "version": "0.1.0", "options": sys.argv[1:]}],
    }
    if model is not None:
        header["model"] = model
    if encoder is not None:
        header["encoder"] = encoder
    out.write(MAGIC + struct.pack("<HH", 1, 0))
    out.write(record(b"HEAD", 0, json.dumps(header, sort_keys=True, separators=(",", ":")).encode()))
    z = np.ascontiguousarray(z, dtype="<f4")
    block = 4096
    blocks = 0
    for start in range(0, rows, block):
        part = z[start:start + block]
        out.write(record(b"ROWS", len(part), part.tobytes()))
        blocks += 1
    out.write(record(b"ENDS", 0, struct.pack("<QQ", rows, blocks)))


def read_latents(path):
    data = open(path, "rb").read() if path != "-" else sys.stdin.buffer.read()
    d = zstandard.ZstdDecompressor()
    pos = 12
    header = None
    parts = []
    while pos < len(data):
        tag = data[pos:pos + 4]
        count, length = struct.unpack("<II", data[pos + 4:pos + 12])
        payload = d.decompress(data[pos + 12:pos + 12 + length])
        pos += 12 + length
        if tag == b"HEAD":
            header = json.loads(payload)
        elif tag == b"ROWS":
            parts.append(np.frombuffer(payload, dtype="<f4"))
        elif tag == b"ENDS":
            pos += 12 if pos < len(data) else 0
    dim = len(header["layout"]["floatFields"])
    return header, np.concatenate(parts).reshape(-1, dim)


def toy(rows, dim, seed):
    """Four clusters with shares 0.4/0.3/0.2/0.1, each with its own correlated covariance."""
    rng = np.random.default_rng(seed)
    shares = np.array([0.4, 0.3, 0.2, 0.1])
    labels = rng.choice(4, size=rows, p=shares)
    centres = rng.normal(0, 1.5, size=(4, dim))
    z = np.empty((rows, dim))
    for k in range(4):
        a = rng.normal(0, 1, size=(dim, dim)) / np.sqrt(dim)
        cov_root = 0.3 * a + 0.2 * np.eye(dim)
        idx = labels == k
        z[idx] = centres[k] + rng.normal(size=(idx.sum(), dim)) @ cov_root.T
    return z.astype(np.float32)


def compare(real, synth):
    from scipy.stats import ks_2samp
    mr, ms = real.mean(0), synth.mean(0)
    cr, cs = np.cov(real.T), np.cov(synth.T)
    sr = np.sqrt(np.diag(cr))
    ks = [ks_2samp(real[:, j], synth[:, j]).statistic for j in range(real.shape[1])]
    corr_r = cr / np.outer(sr, sr)
    ss = np.sqrt(np.diag(cs))
    corr_s = cs / np.outer(ss, ss)
    iu = np.triu_indices(real.shape[1], 1)
    out = {
        "rows": [len(real), len(synth)],
        "mean_abs_err_over_sd": float(np.mean(np.abs(mr - ms) / sr)),
        "sd_ratio_mean": float(np.mean(ss / sr)),
        "ks_mean": float(np.mean(ks)),
        "ks_max": float(np.max(ks)),
        "corr_abs_err_mean": float(np.mean(np.abs(corr_r[iu] - corr_s[iu]))),
        "shape_error_pct": float(100 * np.mean(ks)),
        "trend_error_pct": float(100 * np.mean(np.abs(corr_r[iu] - corr_s[iu]) / 2)),
    }
    # A detector: gradient boosting if scikit-learn is there, on 50/50 real vs synthetic.
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.metrics import roc_auc_score
        n = min(len(real), len(synth), 20000)
        rng = np.random.default_rng(0)
        x = np.vstack([real[rng.permutation(len(real))[:n]], synth[rng.permutation(len(synth))[:n]]])
        y = np.r_[np.ones(n), np.zeros(n)]
        perm = rng.permutation(2 * n)
        x, y = x[perm], y[perm]
        half = n
        clf = HistGradientBoostingClassifier(max_iter=200).fit(x[:half], y[:half])
        out["detector_auc"] = float(roc_auc_score(y[half:], clf.predict_proba(x[half:])[:, 1]))
    except ImportError:
        pass
    return out


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "toy":
        rows, dim, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        model = {"vae": "0123456789abcdef", "tokens": dim // 4, "token_width": 4}
        write_latents(sys.stdout.buffer, toy(rows, dim, seed), model=model)
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        _, real = read_latents(sys.argv[2])
        _, synth = read_latents(sys.argv[3])
        print(json.dumps(compare(real, synth), indent=1))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
