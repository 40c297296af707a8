"""Development harness of the index-time calibration (issue 10): collect, then fit.

``collect``: build a temporary index of a dev KB with the default settings, run each
dev case through the live decision at threshold 0 (so every case the bot could answer
gets its features), and score the KB's self-supervised queries; everything is written
to one JSON file (cached in /tmp: the models run once per KB).

``fit``: leave-one-KB-out over collected files: weights fitted on the others, the
threshold chosen on the others for a target precision, measured on the one left out.

Only development sets go in here (the sample, examples/eval/admin and shop, the
examples/dev KBs); the sealed sets (examples/eval/isp, library, energy, airline, saas)
never do.

    python -m bench.self_calibration collect examples/dev/transit/kb \
        examples/dev/transit/cases.jsonl /tmp/f.json --index /tmp/i
    python -m bench.self_calibration fit /tmp/a.json /tmp/b.json ... --held-out /tmp/t.json

``matrix``: tuned on X -> measured on Y for every pair of collected KBs (precision @
coverage at the threshold), the shipped weights and leave-one-KB-out beside them.

``eval``: ``guichet kb eval``'s figures at the default settings (precision, coverage,
top-1, out-of-scope answered, asks for a person and angry messages handed off, chit-chat
answered) on a kept index directory, so that a rerun takes seconds:

    python -m bench.self_calibration eval examples/dev/transit/kb \
        examples/dev/transit/cases.jsonl --index /tmp/i

``rank``: top-1 (a translated pair counts as its topic) of a collected KB's index for
several passage-mean weights (:data:`kb_index.fusion.PASSAGE_WEIGHT`), nothing else
changed:

    python -m bench.self_calibration rank /tmp/i examples/dev/transit/cases.jsonl \
        --passage-weights 0,0.35,0.65
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kb_index.calibration import Calibration, fit_calibration
from kb_index.self_calibration import SELF_E5

FEATURES_FITTED = ("top", "margin", "lift", "coverage", "dense_agree")

SEALED = ("examples/eval/isp", "examples/eval/library", "examples/eval/energy",
          "examples/eval/airline", "examples/eval/saas")  # the last two: written at stop 16


async def _collect(kb: str, cases: str, index: str) -> dict:
    from gateway.flow.policy import PolicyConfig
    from gateway.kb.evaluate import run_cases
    from kb_index.embed_cache import EmbeddingCache
    from kb_index.embedder import make_embedder, make_term_encoder
    from kb_index.evaluate import load_cases
    from kb_index.retriever import KBRetriever
    from kb_index.self_calibration import score_queries
    from kb_index.versions import build_index

    embedder = make_embedder("e5", "", 2)
    terms = make_term_encoder("use")
    # a kept index directory: its embedding cache makes a second collection cheap
    build_index(kb, index, embedder, progress=False, terms=terms)
    retriever = KBRetriever(index, embedder, terms=terms)
    try:
        case_list = load_cases(cases)
        results = await run_cases(retriever, case_list, 0.0, PolicyConfig())
        loaded = retriever.loaded
        assert loaded is not None
        scored = score_queries(loaded, list(loaded.articles.values()), embedder, terms=terms,
                               cache=EmbeddingCache.for_index(index))
        calibration = retriever.calibration_of(loaded)
    finally:
        retriever.close()
    return {
        "kb": kb,
        "index": str(Path(index) / "versions" / loaded.version),  # for bench.feature_trials
        "calibration": calibration.to_dict(),
        "cases": [{"id": r.id, "kind": r.kind, "expected": r.expected, "action": r.action,
                   "reason": r.reason, "top": r.top, "scores": list(r.scores), "features": r.features,
                   "text": c.text}
                  for r, c in zip(results, case_list, strict=True)],
        "held_out": [{"kind": q.kind, "right": top == q.article_id, "features": dict(f)}
                     for q, top, f in scored.held_out],
        "left_out": [{"kind": q.kind, "features": dict(f)} for q, _, f in scored.left_out],
        "offtopic": [{"features": dict(f)} for _, _, f in scored.offtopic],
    }


async def _eval(kb: str, cases: str, index: str) -> dict:
    """``guichet kb eval``'s decision at the default settings, on a kept index directory
    (its embedding cache makes a rerun take seconds instead of minutes)."""
    from collections import Counter

    from gateway.config import BotSettings
    from gateway.flow.policy import PolicyConfig
    from gateway.kb.evaluate import evaluate_with
    from kb_index.embedder import make_embedder, make_term_encoder
    from kb_index.retriever import KBRetriever
    from kb_index.versions import build_index

    embedder = make_embedder("e5", "", 2)
    terms = make_term_encoder("use")
    bot = BotSettings()
    build = build_index(kb, index, embedder, progress=False, terms=terms)
    retriever = KBRetriever(index, embedder, terms=terms)
    try:
        report = (await evaluate_with(retriever, build, kb, cases, [bot.answer_threshold],
                                      policy=PolicyConfig.from_settings(bot)))[0]
    finally:
        retriever.close()
    kinds: dict[str, Counter[str]] = {}
    for r in report.results:
        kinds.setdefault(r.kind, Counter())[r.action] += 1

    def share(kind: str, action: str) -> str:
        counts = kinds.get(kind, Counter())
        return f"{counts[action]}/{sum(counts.values())}"

    m = report.overall
    return {"cases": cases, "threshold": bot.answer_threshold, "precision": m.precision,
            "coverage": m.coverage, "top1": m.top1, "oos_answered": share("oos", "answer"),
            "person_handed_off": share("human", "handoff"), "angry_handed_off": share("angry", "handoff"),
            "chitchat_answered": share("chitchat", "answer")}


def _refuse_sealed(*paths: str) -> None:
    if any(Path(p).resolve().is_relative_to(Path(s).resolve()) for p in paths for s in SEALED):
        sys.exit("sealed evaluation KBs are not development data")


def collect(kb: str, cases: str, out: str, index: str) -> None:
    _refuse_sealed(kb, cases)
    Path(out).write_text(json.dumps(asyncio.run(_collect(kb, cases, index))), "utf-8")


def _load(paths: Sequence[str]) -> dict[str, dict]:
    """Collected files by KB directory (several case files of one KB are merged)."""
    kbs: dict[str, dict] = {}
    for path in paths:
        data = json.loads(Path(path).read_text("utf-8"))
        if data["kb"] in kbs:
            kbs[data["kb"]]["cases"] += data["cases"]
        else:
            kbs[data["kb"]] = data
    return kbs


def _rows(data: dict) -> tuple[Calibration, list[tuple[dict, bool, bool]], int]:
    """(the KB's scale, one (features, right, answerable) per case the bot may answer,
    answerable cases)."""
    scale = Calibration.from_dict(data["calibration"])
    rows = [(c["features"], c["expected"] is not None and c["top"] == c["expected"],
             c["expected"] is not None) for c in data["cases"] if c["action"] == "answer"]
    return scale, rows, sum(c["expected"] is not None for c in data["cases"])


def _confidences(model: Calibration, data: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    scale, rows, answerable = _rows(data)
    on_kb = Calibration(model.bias, model.weights, model.name, scale.reference)
    conf = np.asarray([on_kb.confidence(f) for f, _, _ in rows])
    return conf, np.asarray([r for _, r, _ in rows]), np.asarray([a for _, _, a in rows]), answerable


def fit(kbs: Sequence[dict], target: float, threshold: float) -> Calibration:
    """Weights fitted on every KB's candidate cases on its own scale (each KB weighing
    the same), the bias then shifted so that ``threshold`` gives ``target`` precision
    on them all together."""
    rows, labels, weights = [], [], []
    for data in kbs:
        scale, kb_rows, _ = _rows(data)
        rows += [scale.normalised(f) for f, _, _ in kb_rows]
        labels += [r for _, r, _ in kb_rows]
        weights += [1.0 / len(kb_rows)] * len(kb_rows)
    model = fit_calibration(rows, labels, features=FEATURES_FITTED, weights=weights, name="self-calibrated")
    conf = np.concatenate([_confidences(model, d)[0] for d in kbs])
    right = np.concatenate([_confidences(model, d)[1] for d in kbs])
    order = np.argsort(-conf)
    precision = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(precision >= target)
    reached = float(conf[order][ok.max()]) if len(ok) else 0.99
    logit = lambda p: float(np.log(p / (1.0 - p)))  # noqa: E731
    return Calibration(round(model.bias - logit(reached) + logit(threshold), 3), model.weights, model.name)


def measure(model: Calibration, data: dict, threshold: float) -> tuple[float, float]:
    """(answered-precision, coverage) at ``threshold`` (the clarifying question aside)."""
    conf, right, answerable_rows, answerable = _confidences(model, data)
    answered = conf >= threshold
    precision = float(right[answered].mean()) if answered.any() else 1.0
    return precision, float((answered & answerable_rows).sum()) / max(1, answerable)


def fit_report(paths: Sequence[str], held_out: Sequence[str], target: float, threshold: float) -> None:
    kbs = _load(paths)
    tests = _load(held_out)
    print(f"target {target} at threshold {threshold}; shipped {SELF_E5}")
    for name in kbs:  # leave one KB out
        model = fit([d for n, d in kbs.items() if n != name], target, threshold)
        p, c = measure(model, kbs[name], threshold)
        p0, c0 = measure(SELF_E5, kbs[name], threshold)
        print(f"  left out {name}: {p:.3f} @ {c:.3f} (shipped weights: {p0:.3f} @ {c0:.3f})")
    model = fit(list(kbs.values()), target, threshold)
    print(f"fitted on all: {model}")
    for name, data in {**kbs, **tests}.items():
        p, c = measure(model, data, threshold)
        p0, c0 = measure(SELF_E5, data, threshold)
        tag = "held out" if name in tests else "fitted on"
        print(f"  {tag} {name}: {p:.3f} @ {c:.3f} (shipped weights: {p0:.3f} @ {c0:.3f})")


def matrix_report(paths: Sequence[str], target: float, threshold: float) -> None:
    """Tuned on X -> measured on Y for every pair of collected KBs (weights and bias
    fitted on X alone), then the shipped weights and leave-one-KB-out, as a table."""
    kbs = _load(paths)
    names = list(kbs)
    short = {n: Path(n).parent.name if Path(n).name == "kb" and Path(n).parent.name not in ("examples",)
             else "sample" for n in names}
    rows: list[tuple[str, Calibration | None]] = [(f"tuned on {short[n]}", fit([kbs[n]], target, threshold))
                                                  for n in names]
    rows += [("shipped (SELF_E5)", SELF_E5), ("the five others (leave one out)", None)]
    print("| weights and bias | " + " | ".join(short[n] for n in names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for label, model in rows:
        cells = []
        for n in names:
            used = model or fit([d for m, d in kbs.items() if m != n], target, threshold)
            p, c = measure(used, kbs[n], threshold)
            cell = f"{p:.3f} @ {c:.3f}"
            cells.append(f"*{cell}*" if label == f"tuned on {short[n]}" else cell)
        print(f"| {label} | " + " | ".join(cells) + " |")


def rank(index: str, cases: str, passage_weights: Sequence[float]) -> None:
    from kb_index.embedder import encode_queries, make_embedder, make_term_encoder
    from kb_index.evaluate import load_cases
    from kb_index.fusion import FusionConfig
    from kb_index.retriever import KBRetriever
    from kb_index.twins import same_topic

    embedder = make_embedder("e5", "", 2)
    terms = make_term_encoder("use")
    answerable = [c for c in load_cases(cases) if c.expected]
    vectors = encode_queries(embedder, [c.text for c in answerable])
    for weight in passage_weights:
        retriever = KBRetriever(index, embedder, terms=terms, fusion=FusionConfig(passage_weight=weight))
        try:
            loaded = retriever.loaded
            assert loaded is not None
            twins = retriever.twins_of(loaded)
            right = 0
            for case, vector in zip(answerable, vectors, strict=True):
                top = retriever.search_encoded(case.text, vector).top
                right += top is not None and same_topic(top.article_id, str(case.expected), twins)
        finally:
            retriever.close()
        share = right / len(answerable)
        print(f"{cases}: passage weight {weight}: top-1 {right}/{len(answerable)} = {share:.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.self_calibration")
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("kb")
    c.add_argument("cases")
    c.add_argument("out")
    c.add_argument("--index", required=True, help="index directory kept between runs (e.g. in /tmp)")
    f = sub.add_parser("fit")
    f.add_argument("collected", nargs="+", help="collected files to fit on (leave-one-KB-out too)")
    f.add_argument("--held-out", nargs="*", default=[], help="collected files never fitted on")
    f.add_argument("--target", type=float, default=0.92)
    f.add_argument("--threshold", type=float, default=0.70)
    m = sub.add_parser("matrix")
    m.add_argument("collected", nargs="+")
    m.add_argument("--target", type=float, default=0.92)
    m.add_argument("--threshold", type=float, default=0.70)
    e = sub.add_parser("eval", help="kb eval's figures at the defaults, on a kept index directory")
    e.add_argument("kb")
    e.add_argument("cases")
    e.add_argument("--index", required=True)
    r = sub.add_parser("rank")
    r.add_argument("index", help="an index directory built by collect")
    r.add_argument("cases")
    r.add_argument("--passage-weights", default="0,0.35,0.65")
    args = parser.parse_args(argv)
    if args.cmd == "collect":
        collect(args.kb, args.cases, args.out, args.index)
    elif args.cmd == "matrix":
        matrix_report(args.collected, args.target, args.threshold)
    elif args.cmd == "eval":
        _refuse_sealed(args.kb, args.cases)
        print(json.dumps(asyncio.run(_eval(args.kb, args.cases, args.index))))
    elif args.cmd == "rank":
        _refuse_sealed(args.cases)
        rank(args.index, args.cases, [float(w) for w in args.passage_weights.split(",")])
    else:
        fit_report(args.collected, args.held_out, args.target, args.threshold)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
