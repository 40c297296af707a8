"""bench.public on tiny synthetic CLINC150 / BANKING77 files: the harness runs the three
systems end to end, prints the tables with the anchors, caches embeddings, and the
metrics and threshold rule are right on hand-made rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench.public import main
from bench.public.datasets import load_banking77, load_clinc150, title_of, write_kb
from bench.public.metrics import Ranked, choose_threshold, figures

TOPICS = {
    "card_arrival": ["when will my card arrive", "card delivery time", "my card has not arrived",
                     "how long for the new card", "card still not here", "track my card"],
    "exchange_rate": ["what exchange rate do you use", "currency conversion rate", "euro dollar rate",
                      "rate for foreign currency", "exchange rate today", "conversion fee rate"],
    "lost_card": ["i lost my card", "my card was stolen", "block my lost card",
                  "card missing what to do", "report a stolen card", "lost wallet with card"],
}


def _write_data(root: Path) -> Path:
    clinc = root / "clinc150"
    clinc.mkdir(parents=True)
    data = {
        "train": [[t, i] for i, texts in TOPICS.items() for t in texts],
        "val": [["card arrival time", "card_arrival"], ["currency rate", "exchange_rate"],
                ["stolen card", "lost_card"]],
        "test": [["when does the card arrive", "card_arrival"], ["exchange rate", "exchange_rate"],
                 ["i lost my card", "lost_card"], ["card lost", "lost_card"]],
        "oos_train": [], "oos_val": [["play some jazz music", "oos"]],
        "oos_test": [["what is the weather on mars", "oos"], ["sing me a song", "oos"]],
    }
    (clinc / "data_full.json").write_text(json.dumps(data), "utf-8")
    banking = root / "banking77"
    banking.mkdir()
    for name, rows in (("train", [(t, i) for i, texts in TOPICS.items() for t in texts]),
                       ("test", [("card arrival", "card_arrival"), ("rate of exchange", "exchange_rate"),
                                 ("stolen wallet card", "lost_card")])):
        with (banking / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(["text", "category"])
            writer.writerows(rows)
    return root


def test_the_benchmarks_run_end_to_end_and_reruns_hit_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _write_data(tmp_path / "datasets")
    argv = ["--data-dir", str(data), "--embedder", "hash", "--results", str(tmp_path / "results"),
            "--shots", "4"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for text in ("CLINC150", "BANKING77 4-shot", "held out", "OURS: hybrid + calibrated",
                 "dense only", "BM25 only", "softmax head (bench only)", "Larson et al. 2019", "96.2%",
                 "Casanueva et al. 2020", "85.2%", "timings:"):
        assert text in out
    figures_file = json.loads((tmp_path / "results" / "public.json").read_text("utf-8"))
    assert figures_file[0]["name"] == "CLINC150"
    clinc = figures_file[0]
    assert clinc["test_queries"] == 5 and clinc["removed"] == 1  # "i lost my card" is a KB variant
    names = [s["name"] for s in clinc["systems"]]
    assert names[0].startswith("OURS") and "BM25 only" in names and "dense only (cosine)" in names
    for system in clinc["systems"]:
        assert 0.0 <= system["test"]["accuracy"] <= 1.0
        assert system["test"]["oos"] == 2
    assert (tmp_path / "results" / "kb" / "clinc150" / "faq.jsonl").is_file()
    assert list((tmp_path / "results" / "cache").glob("hash-*.npz"))

    assert main([*argv, "--dataset", "clinc150"]) == 0
    assert "texts encoded (not cached) 0.0" in capsys.readouterr().out


def test_missing_datasets_are_skipped_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(tmp_path / "nowhere"), "--embedder", "hash"]) == 0
    assert "skipped" in capsys.readouterr().out


def test_clinc_kb_and_splits(tmp_path: Path) -> None:
    bench = load_clinc150(_write_data(tmp_path))
    assert set(bench.kb) == set(TOPICS) and len(bench.kb["lost_card"]) == 6
    assert sum(q.gold is None for q in bench.test) == 2 and bench.removed == 1
    assert sum(q.gold is None for q in bench.tune) == 1
    rows = [json.loads(line) for line in write_kb(bench, tmp_path / "kb").read_text().splitlines()]
    assert rows[0] == {"id": "card_arrival", "question": "when will my card arrive",
                       "title": "Card arrival", "answer": "Card arrival.", "lang": "en"}
    assert len(rows) == 18
    assert title_of("transfer_not_received_by_recipient") == "Transfer not received by recipient"


def test_banking_k_shot_is_seeded_and_held_out_intents_must_be_handed_off(tmp_path: Path) -> None:
    data = _write_data(tmp_path)
    a, b = load_banking77(data, shots=2, seed=1), load_banking77(data, shots=2, seed=1)
    assert a.kb == b.kb and all(len(v) == 2 for v in a.kb.values())
    assert sum(len(v) for v in a.kb.values()) + len(a.tune) == 18  # the rest tunes the threshold
    held = load_banking77(data, shots=2, seed=1, held_out=0.34)
    assert len(held.kb) == 2
    hidden = (set(TOPICS) - set(held.kb)).pop()
    assert all(q.gold is None for q in held.test if q.text == {"card_arrival": "card arrival",
               "exchange_rate": "rate of exchange", "lost_card": "stolen wallet card"}[hidden])


ROWS = [
    Ranked("a", ("a", "b"), 0.9),  # right, sure
    Ranked("b", ("a", "b"), 0.8),  # wrong at rank 1, right at 2
    Ranked("c", ("c",), 0.4),  # right, unsure
    Ranked(None, ("a",), 0.6),  # out of scope
    Ranked(None, ("b",), 0.2),  # out of scope
]


def test_figures_at_a_threshold() -> None:
    f = figures(ROWS, 0.5)
    assert (f.in_scope, f.oos) == (3, 2)
    assert f.accuracy == pytest.approx(1 / 3)  # only "a" answered and right
    assert f.wrong == pytest.approx(1 / 3)  # "b" answered wrong
    assert f.oos_recall == pytest.approx(1 / 2)  # the 0.2 one handed off, the 0.6 one answered
    assert f.oos_precision == pytest.approx(1 / 2)  # hand-offs: "c" (in scope) and one OOS
    assert f.recall == (pytest.approx(2 / 3), pytest.approx(1.0), pytest.approx(1.0))
    assert f.mrr == pytest.approx((1 + 0.5 + 1) / 3)


def test_threshold_rule_best_accuracy_at_the_oos_recall() -> None:
    assert choose_threshold(ROWS, 0.5) == pytest.approx(0.4)  # answers a, b, c; hands off 0.2
    assert choose_threshold(ROWS, 1.0) == pytest.approx(0.9)  # both OOS below it
    assert choose_threshold([r for r in ROWS if r.gold], 0.75) == 0.0  # no OOS: answer all


def test_sample_kb_comparison_reports_both_retrievers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench.public import sample_kb
    from tests.kb_index.conftest import write_kb

    kb = write_kb(tmp_path / "kb")
    rows = [{"id": "c1", "text": "Reset your password", "expected": "password-reset"},
            {"id": "c2", "text": "Is delivery free?", "expected": "shipping"},
            {"id": "c3", "text": "refund yearly plan", "expected": "refunds"},
            {"id": "c4", "text": "xyzzy quantum", "expected": None}]
    cases = tmp_path / "c.jsonl"
    cases.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    assert sample_kb.main(["--kb", str(kb), "--cases", str(cases), "--holdout", str(cases),
                           "--embedder", "hash", "--target-precision", "0.9", "--term-bridge", "off"]) == 0
    out = capsys.readouterr().out
    assert "hybrid without the term bridge: threshold" in out and "dense only (the retriever before)" in out
    assert "term bridge (product default)" not in out  # no word encoder, no bridged row
    assert "holdout coverage" in out and "cross-language answered" in out
