"""Reference formulations a Python user would write today, timed on the very matrices robust-agg
timed (bench/run.mjs writes them as row-major little-endian float32: nMax rows, then a reference
row). Run by the bench harness; prints one JSON object per line on stdout.

    python3 bench/peers/reference.py '<json config>'

config: {"file", "nMax", "d", "ns": [...], "fs": {"n": f}, "libs": ["numpy", "torch"],
         "rules": [...], "rulesByLib": {"lib": [...]} (optional, else "rules"),
         "costs": {"rule": "nd" | "n2d"}, "budgets_ms": {"n": ms}, "maxCallMs": ms,
         "minSamples": 5, "maxCellMs": ms, "predicted": {"lib|rule|n": {"ms", "fromRun"}},
         "threads": null | N}

Every formulation below is the plain, idiomatic one (no custom kernels): numpy's mean / median /
sort and matmul, torch.median / sort / cdist, and a Weiszfeld loop on the data as in the Byrd-SAGA
notebook. Timing as in the harness (bench/lib/timing.mjs): one untimed warm-up call unless the call
is predicted slow (from the previous n by the same cost model, else from the harness's prediction),
then at least minSamples timed calls and the budget spent, fewer only when one call exceeds
maxCellMs / minSamples (the record says fewSamples); a call predicted above maxCallMs (from this run's
timings) is skipped. Median, and the median absolute deviation from two calls up, in ms.
"""
import json
import os
import sys
import time


MAX_SAMPLES = 10000


def median_of(s):
    m = len(s)
    return s[m // 2] if m % 2 else 0.5 * (s[m // 2 - 1] + s[m // 2])


def stats(samples, min_samples, max_cell_ms):
    """Median, and the median absolute deviation only when it was measured (two calls up)."""
    s = sorted(samples)
    m = len(s)
    med = median_of(s)
    mad = median_of(sorted(abs(x - med) for x in s)) if m >= 2 else None
    out = {"medianMs": med, "madMs": mad, "minMs": s[0], "maxMs": s[-1], "meanMs": sum(s) / m,
           "samples": m, "samplesTarget": min_samples, "fewSamples": m < min_samples}
    if m < min_samples:
        out["slowCallMs"] = max_cell_ms / min_samples
    return out


def want_more(samples, min_samples, budget_ms, max_cell_ms):
    """The harness's stop rule (bench/lib/timing.mjs wantMore): at least min_samples calls and the
    budget spent; fewer only when the median call exceeds max_cell_ms / min_samples and the next
    call would take the cell past max_cell_ms."""
    k = len(samples)
    if k == 0:
        return True
    if k >= MAX_SAMPLES:
        return False
    spent = sum(samples)
    typical = median_of(sorted(samples))
    if k >= min_samples:
        return spent < budget_ms and spent + typical <= max_cell_ms
    slow = typical > max_cell_ms / min_samples
    return not (slow and spent + typical > max_cell_ms)


def timed(fn, budget_ms, predicted_ms, min_samples, max_cell_ms):
    """One untimed warm-up call unless the call is predicted slow, then timed calls under the
    harness's stop rule."""
    warm = predicted_ms is None or predicted_ms <= max_cell_ms / min_samples
    if warm:
        fn()
    samples = []
    while want_more(samples, min_samples, budget_ms, max_cell_ms):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1e3)
    return stats(samples, min_samples, max_cell_ms), warm


def cost_scale(cost, n, d):
    """Relative cost at (n, d), as bench/lib/rules.mjs costScale."""
    if cost == "n2d":
        return n * n * d + 8 * n * d
    if cost == "n2":
        return n * n
    return n * d


# ---------------------------------------------------------------- numpy formulations
def numpy_rules(np):
    def mean(X, f):
        return X.mean(axis=0)

    def coordinate_median(X, f):
        return np.median(X, axis=0)

    def trimmed_mean(X, f):
        n = X.shape[0]
        return np.sort(X, axis=0)[f:n - f].mean(axis=0)

    def krum_scores(X, f):
        n = X.shape[0]
        G = X @ X.T
        sq = np.diag(G)
        D = sq[:, None] + sq[None, :] - 2 * G
        return np.sort(D, axis=1)[:, 1:n - f - 1].sum(axis=1)

    def krum(X, f):
        return X[int(np.argmin(krum_scores(X, f)))].copy()

    def multi_krum(X, f):
        n = X.shape[0]
        idx = np.argsort(krum_scores(X, f), kind="stable")[: n - f]
        return X[idx].mean(axis=0)

    def bulyan(X, f):
        # El Mhamdi et al. 2018: theta = n - 2f Krum picks without replacement (each round Krum on
        # the remaining rows, max(1, m - f - 2) neighbours, distances from one X @ X.T), then per
        # coordinate the mean of the beta = theta - 2f picked values closest to their median.
        n = X.shape[0]
        G = X @ X.T
        sq = np.diag(G)
        D = sq[:, None] + sq[None, :] - 2 * G
        remaining = list(range(n))
        theta = n - 2 * f
        picked = []
        while len(picked) < theta:
            sub = D[np.ix_(remaining, remaining)]
            k = max(1, len(remaining) - f - 2)
            scores = np.sort(sub, axis=1)[:, 1:k + 1].sum(axis=1)
            picked.append(remaining.pop(int(np.argmin(scores))))
        S = X[picked]
        beta = theta - 2 * f
        closest = np.argsort(np.abs(S - np.median(S, axis=0)), axis=0, kind="stable")[:beta]
        return np.take_along_axis(S, closest, axis=0).mean(axis=0)

    def geometric_median(X, f, max_iter=80, tol=1e-5):
        z = X.mean(axis=0)
        for _ in range(max_iter):
            dist = np.linalg.norm(X - z, axis=1)
            w = 1.0 / np.maximum(dist, 1e-8)
            z_next = (w @ X) / w.sum()
            moved = np.linalg.norm(z_next - z)
            z = z_next
            if moved <= tol:
                break
        return z

    return {
        "mean": mean,
        "coordinateMedian": coordinate_median,
        "trimmedMean": trimmed_mean,
        "krum": krum,
        "multiKrum": multi_krum,
        "geometricMedian": geometric_median,
        "bulyan": bulyan,
    }


# ---------------------------------------------------------------- torch formulations
def torch_rules(torch):
    def mean(X, f):
        return torch.mean(X, dim=0)

    def coordinate_median(X, f):
        return torch.median(X, dim=0).values  # the lower middle value for even n

    def trimmed_mean(X, f):
        n = X.shape[0]
        return torch.sort(X, dim=0).values[f:n - f].mean(dim=0)

    def krum_scores(X, f):
        n = X.shape[0]
        D = torch.cdist(X, X) ** 2
        return torch.sort(D, dim=1).values[:, 1:n - f - 1].sum(dim=1)

    def krum(X, f):
        return X[int(torch.argmin(krum_scores(X, f)))].clone()

    def multi_krum(X, f):
        n = X.shape[0]
        idx = torch.argsort(krum_scores(X, f))[: n - f]
        return X[idx].mean(dim=0)

    def geometric_median(X, f, max_iter=80, tol=1e-5):
        # Weiszfeld on the data, the way the Byrd-SAGA notebook writes it: start at the mean,
        # distances of every row each iteration, rows divided by their distance and stacked.
        guess = torch.mean(X, dim=0)
        for _ in range(max_iter):
            dist = torch.norm(X - guess, dim=1)
            dist = torch.where(dist == 0, torch.ones_like(dist), dist)
            num = torch.sum(torch.stack([w / d for w, d in zip(X, dist)]), dim=0)
            guess_next = num / torch.sum(1.0 / dist)
            moved = torch.norm(guess - guess_next)
            guess = guess_next
            if moved <= tol:
                break
        return guess

    def centered_clipping(X, f, tau=10.0, iterations=5):
        v = torch.zeros(X.shape[1], dtype=X.dtype)
        for _ in range(iterations):
            diff = X - v
            norms = torch.norm(diff, dim=1, keepdim=True)
            scale = torch.clamp(tau / norms, max=1.0)
            v = v + (diff * scale).mean(dim=0)
        return v

    return {
        "mean": mean,
        "coordinateMedian": coordinate_median,
        "trimmedMean": trimmed_mean,
        "krum": krum,
        "multiKrum": multi_krum,
        "geometricMedian": geometric_median,
        "centeredClipping": centered_clipping,
    }


NOTES = {
    ("numpy", "mean"): "X.mean(0)",
    ("numpy", "coordinateMedian"): "np.median(X, 0)",
    ("numpy", "trimmedMean"): "np.sort(X, 0)[f:n-f].mean(0)",
    ("numpy", "krum"): "X @ X.T, np.sort of the distance rows",
    ("numpy", "multiKrum"): "X @ X.T, np.sort, mean of the n-f best",
    ("numpy", "geometricMedian"): "Weiszfeld on the data (norm of X - z per iteration)",
    ("numpy", "bulyan"): "X @ X.T, theta Krum rounds, np.argsort of |S - median| per coordinate",
    ("torch", "mean"): "torch.mean(X, 0)",
    ("torch", "coordinateMedian"): "torch.median(X, 0) (lower middle value)",
    ("torch", "trimmedMean"): "torch.sort(X, 0)[f:n-f].mean(0)",
    ("torch", "krum"): "torch.cdist(X, X)**2, torch.sort",
    ("torch", "multiKrum"): "torch.cdist, torch.sort, mean of the n-f best",
    ("torch", "geometricMedian"): "Byrd-SAGA-style Weiszfeld loop on the data (torch.stack per iteration)",
    ("torch", "centeredClipping"): "L = 5 iterations on the data, tau 10, centre 0",
}


def main():
    cfg = json.loads(sys.argv[1])
    info = {"python": sys.version.split()[0], "executable": sys.executable}
    libs = {}
    if "numpy" in cfg["libs"] or "torch" in cfg["libs"]:
        import numpy as np  # torch.from_numpy needs it too

        info["numpy"] = np.__version__
        if "numpy" in cfg["libs"]:
            libs["numpy"] = numpy_rules(np)
    if "torch" in cfg["libs"]:
        import torch

        info["torch"] = torch.__version__
        if cfg.get("threads"):
            torch.set_num_threads(int(cfg["threads"]))
        info["torch_threads"] = torch.get_num_threads()
        libs["torch"] = torch_rules(torch)
    info["cpu_count"] = os.cpu_count()
    print(json.dumps({"info": info}), flush=True)

    n_max, d = cfg["nMax"], cfg["d"]
    data = np.fromfile(cfg["file"], dtype="<f4", count=n_max * d).reshape(n_max, d)
    last = {}  # (lib, rule) -> (n, ms) of the previous size, to predict the next one
    for n in cfg["ns"]:
        f = int(cfg["fs"][str(n)])
        budget = float(cfg["budgets_ms"][str(n)])
        Xn = data[:n]
        for lib_name, rules in libs.items():
            X = torch.from_numpy(Xn) if lib_name == "torch" else Xn
            for rule in cfg.get("rulesByLib", {}).get(lib_name, cfg["rules"]):
                if rule not in rules:
                    continue
                fn = rules[rule]
                prev = last.get((lib_name, rule))
                cost = cfg.get("costs", {}).get(rule, "n2d")
                given = cfg.get("predicted", {}).get(f"{lib_name}|{rule}|{n}")
                if prev is not None:
                    predicted, from_run = prev[1] * cost_scale(cost, n, d) / cost_scale(cost, prev[0], d), True
                elif given is not None:
                    predicted, from_run = given["ms"], bool(given.get("fromRun"))
                else:
                    predicted, from_run = None, False
                if from_run and predicted > cfg.get("maxCallMs", float("inf")):
                    rec = {"impl": lib_name, "rule": rule, "n": n, "d": d, "f": f,
                           "error": f"skipped: predicted {predicted / 1e3:.1f} s > {cfg['maxCallMs'] / 1e3:.0f} s per call"}
                    print(json.dumps(rec), flush=True)
                    continue
                rec = {"impl": lib_name, "rule": rule, "n": n, "d": d, "f": f, "note": NOTES.get((lib_name, rule), "")}
                try:
                    st, warm = timed(lambda: fn(X, f), budget, predicted,
                                     int(cfg.get("minSamples", 5)), float(cfg.get("maxCellMs", 2500)))
                    rec.update(st)
                    rec["warmup"] = warm
                    last[(lib_name, rule)] = (n, st["medianMs"])
                except Exception as e:  # noqa: BLE001 - reported, the run goes on
                    rec["error"] = f"{type(e).__name__}: {e}"
                print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
