"""One embedder through the bot's path at its own operating point.

    .venv/bin/python -m bench.embedders_tuned e5            # or use, combined, ...
    .venv/bin/python -m bench.embedders_tuned combined use:0.2,e5:0.8

Calibration: whatever ``kb_index.calibration.calibration_for`` gives the embedder.
The threshold (0.30-0.95, step 0.025) is the one with the most dev coverage at
>= 95 % precision; the holdout is read at that same threshold.
"""

from __future__ import annotations

import asyncio
import sys

from gateway.kb.evaluate import evaluate_many_async
from kb_index.embedder import make_embedder

THRESHOLDS = [round(0.3 + 0.025 * i, 3) for i in range(27)]
TARGET = 0.95


async def main(kind: str, spec: str = "") -> None:
    embedder = make_embedder(kind, spec, 2)
    dev = await evaluate_many_async("examples/kb", "examples/cases.jsonl", embedder, THRESHOLDS)
    ho = await evaluate_many_async("examples/kb", "examples/cases_holdout.jsonl", embedder, THRESHOLDS)
    ok = [(r.overall.coverage or 0.0, i) for i, r in enumerate(dev) if (r.overall.precision or 0) >= TARGET]
    if not ok:
        print(f"{embedder.name}: no threshold reaches {TARGET:.0%} precision on dev")
        return
    _, i = max(ok)
    for label, report in (("dev", dev[i]), ("holdout", ho[i])):
        m, x = report.overall, report.by_kind.get("xlang")
        print(f"{embedder.name} {label} threshold {report.threshold}: coverage {m.coverage:.3f} "
              f"precision {m.precision:.3f} top-1 {m.top1:.3f} xlang answered "
              f"{(x.coverage or 0.0) if x else 0.0:.2f}")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
