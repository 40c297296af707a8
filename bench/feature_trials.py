"""Candidate confidence features, measured leave-one-KB-out before any goes into the
product (issue 10, stop 16).

Reads files written by ``python -m bench.self_calibration collect`` (which keep each
case's text and the index version they were scored on), adds candidate features to
every case the bot could answer, and for the shipped feature set and the shipped set
plus each candidate: fits the weights on all KBs but one (each KB weighing the same),
sets the bias so that the default threshold gives the target precision on them, and
measures the KB left out (answered-precision @ coverage, out-of-scope cases answered).
No model runs except the word encoder of the term bridge for the ``word_*`` features.

    python -m bench.feature_trials /tmp/sc/sc_*.json --extra unk over_level own_first word_art_min

Candidates (all on the KB's own terms, no labelled case of the KB needed):

- ``unk``: share of the question's IDF mass in words no document of the KB holds
  (an out-of-scope question's specific word: "fishing" licence on a KB of ID papers);
- ``over_level``: fused top score minus the version's off-topic level, on the KB's
  scale of ``top`` (:func:`kb_index.self_calibration.offtopic_level`);
- ``p_off``: share of the KB's off-topic questions scoring at least as high;
- ``own_first``: the KB's own held-out questions finding their article (one value per KB);
- ``agree``: BM25 alone puts the same article first;
- ``word_kb_min`` / ``word_kb_mean``: for each content word of the question, its
  cosine to the nearest KB word (term-bridge vocabulary, any language), min / mean;
- ``word_art_min`` / ``word_art_mean``: the same against the top article's words only.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.self_calibration import FEATURES_FITTED, SEALED
from kb_index.calibration import Calibration
from kb_index.lexical import LexicalIndex, tokenize

WORD = ("word_kb_min", "word_kb_mean", "word_art_min", "word_art_mean")
CANDIDATES = ("unk", "over_level", "p_off", "own_first", "agree", *WORD)

Row = tuple[dict[str, float], bool, bool, str]  # features, right, answerable, kind


def _word_features(text: str, top: str, lex: LexicalIndex, vocab: Any, words_of: Any) -> dict[str, float]:
    from kb_index.term_bridge import content_words

    tokens, vectors = vocab
    words = content_words(text)
    if not words or not len(tokens):
        return dict.fromkeys(WORD, 1.0)
    sims = words_of(words) @ vectors.T
    nearest = sims.max(axis=1)
    mine = np.asarray([t in lex.article_tokens.get(top, set()) for t in tokens])
    in_article = sims[:, mine].max(axis=1) if mine.any() else np.zeros(len(words))
    return {"word_kb_min": float(nearest.min()), "word_kb_mean": float(nearest.mean()),
            "word_art_min": float(in_article.min()), "word_art_mean": float(in_article.mean())}


def load(paths: Sequence[str], words: bool) -> dict[str, dict[str, Any]]:
    """Per KB: candidate rows, answerable cases."""
    words_of = None
    if words:
        from kb_index.embedder import make_term_encoder
        from kb_index.term_bridge import WordVectors

        encoder = make_term_encoder("use")
        assert encoder is not None
        words_of = WordVectors(encoder)
    kbs: dict[str, dict[str, Any]] = {}
    for path in paths:
        data = json.loads(Path(path).read_text("utf-8"))
        if any(Path(data["kb"]).resolve().is_relative_to(Path(s).resolve()) for s in SEALED):
            raise SystemExit("sealed evaluation KBs are not development data")
        if "index" not in data:
            raise SystemExit(f"{path}: collected before stop 16 (no index, no case texts): collect again")
        version = Path(data["index"])
        manifest = json.loads((version / "manifest.json").read_text("utf-8"))["self_calibration"]
        lex = LexicalIndex.load(version)
        assert lex is not None
        vocab = None
        if words_of is not None:
            from kb_index.term_bridge import TermBridge

            bridge = TermBridge.load(version)
            parts = list(bridge.vocab.values()) if bridge else []
            vocab = ([t for v in parts for t in v.tokens],
                     np.vstack([v.vectors for v in parts]) if parts else np.zeros((0, 1)))
        scale = Calibration.from_dict(data["calibration"])
        off_tops = np.asarray([o["features"]["top"] for o in data["offtopic"]])
        low, high = scale.reference.get("top", (0.0, 1.0))
        kb = kbs.setdefault(data["kb"], {"rows": [], "answerable": 0})
        kb["answerable"] += sum(c["expected"] is not None for c in data["cases"])
        for case in data["cases"]:
            if case["action"] != "answer":
                continue
            raw = case["features"]
            x = scale.normalised(raw)
            tokens = tokenize(case["text"])
            mass = lex.query_mass(tokens) or 1.0
            x["unk"] = sum(lex.idf(t) for t in tokens if t not in lex.doc_freq) / mass
            x["over_level"] = (raw["top"] - float(manifest["offtopic_level"])) / max(high - low, 0.01)
            x["p_off"] = float((off_tops >= raw["top"]).mean()) if len(off_tops) else 0.0
            x["own_first"] = float(manifest["own_first"])
            if vocab is not None:
                x.update(_word_features(case["text"], case["top"] or "", lex, vocab, words_of))
            right = case["expected"] is not None and case["top"] == case["expected"]
            kb["rows"].append((x, right, case["expected"] is not None, case["kind"]))
    return kbs


def fit(
    rows: Sequence[Sequence[Row]], features: Sequence[str], target: float, threshold: float
) -> np.ndarray:
    """Logistic regression (bias first), each KB weighing the same, bias shifted so
    that ``threshold`` gives ``target`` precision on the rows together."""
    flat = [r for kb in rows for r in kb]
    weight = np.concatenate([np.full(len(kb), 1.0 / len(kb)) for kb in rows])
    weight /= weight.sum()
    x = np.hstack([np.ones((len(flat), 1)), np.asarray([[r[0][f] for f in features] for r in flat])])
    y = np.asarray([r[1] for r in flat], dtype=np.float64)
    beta = np.zeros(x.shape[1])
    ridge = np.diag([0.0] + [0.01] * len(features))
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -50, 50)))
        hessian = (x.T * (weight * p * (1 - p))) @ x + ridge + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, x.T @ (weight * (p - y)) + ridge @ beta)
        beta -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    conf = 1.0 / (1.0 + np.exp(-(x @ beta)))
    order = np.argsort(-conf)
    precision = np.cumsum(y[order]) / np.arange(1, len(y) + 1)
    ok = np.flatnonzero(precision >= target)
    reached = float(conf[order][ok.max()]) if len(ok) else 0.99
    beta[0] += float(np.log(threshold / (1 - threshold)) - np.log(reached / (1 - reached)))
    return beta


def measure(beta: np.ndarray, kb: dict[str, Any], features: Sequence[str], threshold: float) -> str:
    rows = kb["rows"]
    x = np.asarray([[r[0][f] for f in features] for r in rows])
    answered = 1.0 / (1.0 + np.exp(-(beta[0] + x @ beta[1:]))) >= threshold
    right = np.asarray([r[1] for r in rows])
    answerable = np.asarray([r[2] for r in rows])
    oos = np.asarray([r[3] == "oos" for r in rows])
    precision = float(right[answered].mean()) if answered.any() else 1.0
    coverage = float((answered & answerable).sum()) / max(1, kb["answerable"])
    return f"{precision:.3f} @ {coverage:.3f}, oos {int((answered & oos).sum())}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feature_trials")
    parser.add_argument("collected", nargs="+")
    parser.add_argument("--extra", nargs="*", default=list(CANDIDATES), choices=CANDIDATES,
                        help="candidates, each tried beside the shipped features")
    parser.add_argument("--target", type=float, default=0.92)
    parser.add_argument("--threshold", type=float, default=0.70)
    args = parser.parse_args(argv)
    kbs = load(args.collected, words=any(e in WORD for e in args.extra))
    names = list(kbs)
    short = [Path(n).parent.name if Path(n).name == "kb" and Path(n).parent.name != "examples" else "sample"
             for n in names]
    print("| features (leave one KB out) | " + " | ".join(short) + " | weight (fit on all) |")
    print("|---" * (len(names) + 2) + "|")
    for extra in [None, *args.extra]:
        features = [*FEATURES_FITTED, *([extra] if extra else [])]
        cells = []
        for name in names:
            beta = fit([kbs[n]["rows"] for n in names if n != name], features, args.target, args.threshold)
            cells.append(measure(beta, kbs[name], features, args.threshold))
        full = fit([kbs[n]["rows"] for n in names], features, args.target, args.threshold)
        label = f"shipped + {extra}" if extra else "shipped features"
        print(f"| {label} | " + " | ".join(cells) + f" | {round(float(full[-1]), 2) if extra else ''} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
