"""Embedders through the bot's own code path: ``gateway.kb.evaluate`` (hybrid retrieval,
calibrated confidence, ``gateway.flow.policy.decide``).

    .venv/bin/python -m bench.embedders --official sentence-transformers --official e5 \
        --official combined=use:0.3,e5:0.7

Per embedder kind (``make_embedder`` kinds; "combined=use:0.3,e5:0.7" for a spec),
in a process of its own: evaluate the dev cases once, fit the calibration on them
(``fit_calibration``, what ``guichet kb eval --fit-calibration`` does), then report
dev and holdout at a few thresholds with that calibration.  The holdout is never
used for fitting.  Prints one table per split and the fitted constants.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

from bench.embedders import DEV, HOLDOUT, KB, KINDS, ROOT

THRESHOLDS = (0.5, 0.7, 0.9)


def _worker(kind_spec: str, threads: int) -> dict[str, Any]:
    from gateway.kb.evaluate import evaluate_many_async
    from kb_index.calibration import fit_calibration
    from kb_index.embedder import make_embedder

    kind, _, spec = kind_spec.partition("=")
    embedder = make_embedder(kind, spec, threads)

    async def run() -> dict[str, Any]:
        first = (await evaluate_many_async(KB, DEV, embedder, [0.7]))[0]
        results = first.results
        fitted = fit_calibration([r.features for r in results],
                                 [r.top is not None and r.top == r.expected for r in results],
                                 name=embedder.name)
        out: dict[str, Any] = {"kind": kind_spec, "embedder": embedder.name, "calibration": repr(fitted)}
        for label, path in (("dev", DEV), ("holdout", HOLDOUT)):
            reports = await evaluate_many_async(KB, path, embedder, THRESHOLDS, calibration=fitted)
            out[label] = [
                {"threshold": r.threshold, "overall": _metrics(r.overall),
                 "by_kind": {k: _metrics(m) for k, m in r.by_kind.items()}}
                for r in reports
            ]
        return out

    return asyncio.run(run())


def _metrics(m: Any) -> dict[str, float]:
    """coverage, precision, top-1 and the null hand-off rate (NaN where undefined)."""
    names = ("coverage", "precision", "top1", "null_handoff_rate")
    return {n: float("nan") if getattr(m, n) is None else float(getattr(m, n)) for n in names}


def run_official(kinds: list[str], threads: int) -> None:
    rows = []
    for kind in kinds:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        proc = subprocess.run(
            [sys.executable, "-m", "bench.embedders_official", kind, str(threads)],
            capture_output=True, text=True, check=False, cwd=ROOT, env=env, timeout=1800,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"official {kind} failed:\n{proc.stderr[-3000:]}")
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"evaluated {kind}: {rows[-1]['calibration']}", file=sys.stderr)
    for split in ("dev", "holdout"):
        print(f"\n### {split} through gateway.kb.evaluate (calibration fitted on dev): "
              "coverage / precision / top-1 (%)")
        print("| embedder | threshold | " + " | ".join(KINDS) + " | oos handed off | all |")
        print("|---" * (len(KINDS) + 4) + "|")
        for row in rows:
            for rep in row[split]:
                cells = [_cell(rep["by_kind"].get(k, {})) for k in KINDS]
                oos = rep["by_kind"].get("oos", {})
                print(f"| {row['kind']} | {rep['threshold']:g} | " + " | ".join(cells)
                      + f" | {_pct(oos.get('null_handoff_rate', float('nan')))} | "
                      f"{_cell(rep['overall'])} |")
    print("\nfitted calibrations:")
    for row in rows:
        print(f"- {row['embedder']}: {row['calibration']}")


def _pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.0f}"


def _cell(m: dict[str, float]) -> str:
    if not m:
        return "–"
    return f"{_pct(m.get('coverage', float('nan')))} / {_pct(m.get('precision', float('nan')))} / " \
           f"{_pct(m.get('top1', float('nan')))}"


if __name__ == "__main__":
    print(json.dumps(_worker(sys.argv[1], int(sys.argv[2]))))
