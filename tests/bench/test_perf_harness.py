"""The perf harness end to end in tiny mode on loopback (hash embedder, a few
messages): it runs, prints its tables and the targets block and saves well-formed
rows.  No timing is asserted: figures belong to ``make bench``, not to the test suite."""

from __future__ import annotations

import json
import math
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import bench
from bench.__main__ import main
from bench.perf.retrieval import WRAPPER_CASE
from bench.perf.stats import BenchResult, Row, Summary, percentile
from bench.perf.targets import TARGETS, check_targets
from bench.perf.webchat import LIBRARY_RATE, LIBRARY_REPLY


def test_percentiles_and_ratios() -> None:
    values = [0.001 * n for n in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(0.0505)
    assert percentile(values, 99) == pytest.approx(0.09901)
    summary = Summary.of(values, wall_seconds=2.0)
    assert summary.count == 100 and summary.per_second == 50.0
    assert summary.p50_ms == pytest.approx(50.5)
    assert Row("c", "p50", "ms", 3.0, 1.5).ratio == 2.0
    assert Row("c", "p50", "ms", 3.0, 0.0).to_dict()["ratio"] is None  # JSON-safe, never NaN


def _rows_by_case(bench_result: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    cases: dict[str, dict[str, dict[str, Any]]] = {}
    for row in bench_result["rows"]:
        cases.setdefault(row["case"], {})[row["metric"]] = row
    return cases


def test_tiny_run_prints_tables_and_saves_well_formed_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--only", "perf", "--tiny", "--results", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Retrieval latency — hash-256" in out and "Web chat round trip" in out
    assert "ours / raw" in out and "raw baseline" in out
    assert "Targets" in out and "not measured" in out  # tiny mode runs none of the targets' cases

    saved = json.loads((tmp_path / "perf-latest.json").read_text())
    assert saved["mode"] == "tiny"
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["python"].startswith("3.")
    assert "aiohttp" in saved["machine"]["packages"]
    names = [b["name"] for b in saved["benches"]]
    assert names == ["retrieval:hash", "webchat:stub", "webchat:hash", "email:smtp"]
    for result in saved["benches"]:
        assert result["errors"] == [] and result["ours"] and result["raw"]
        for row in result["rows"]:
            assert row["unit"] in ("ms", "/s")
            assert row["ours"] > 0 and row["raw"] > 0 and row["samples"] > 0
            assert math.isclose(row["ratio"], row["ours"] / row["raw"])

    retrieval = _rows_by_case(saved["benches"][0])
    assert set(retrieval) >= {WRAPPER_CASE, "1 caller", "3 concurrent callers"}
    assert "HashEmbedder(256).encode([q]) + faiss.IndexFlatIP.search(k=5)" in saved["benches"][0]["raw"]
    for metrics in (retrieval[WRAPPER_CASE], retrieval["1 caller"], retrieval["3 concurrent callers"]):
        assert set(metrics) == {"p50", "p95", "p99", "throughput"}
        for side in ("ours", "raw"):
            assert metrics["p50"][side] <= metrics["p95"][side] <= metrics["p99"][side]

    web = _rows_by_case(saved["benches"][1])
    assert set(web) == {"1 visitor at a time", "3 visitors at once"}
    one, three = web["1 visitor at a time"], web["3 visitors at once"]
    assert one["conversations"]["samples"] == 4 and three["conversations"]["samples"] == 6
    real = _rows_by_case(saved["benches"][2])  # the hash retriever: the real KB path, raw library rows
    assert set(real) == {"1 visitor at a time", "3 visitors at once"}
    assert real["1 visitor at a time"]["conversations"]["samples"] == 3
    assert "HashEmbedder(256).encode([q])" in saved["benches"][2]["raw"]
    for metrics in (one, three, *real.values()):
        done = metrics["conversations"]["samples"]
        for step in ("welcome", "ack", "reply"):  # every conversation got all three
            assert metrics[f"{step} p50"]["samples"] == done
            assert metrics[f"{step} p50"]["ours"] <= metrics[f"{step} p99"]["ours"]
    for metrics in real.values():
        assert metrics[LIBRARY_REPLY]["samples"] == metrics[LIBRARY_RATE]["samples"] > 0
    assert LIBRARY_REPLY not in one

    targets = saved["targets"]
    assert [t["target"] for t in targets] == [t.label for t in TARGETS]
    for target in targets:
        assert set(target) >= {"figure", "unit", "op", "threshold", "met", "case", "metric"}
        assert target["met"] is None and target["figure"] is None  # not measured in tiny mode


def _result(name: str, *rows: Row) -> BenchResult:
    return BenchResult(name=name, title=name, ours="ours", raw="raw", rows=list(rows))


def test_targets_read_their_rows_and_compare() -> None:
    """The targets block's logic on made-up figures (no run, nothing timed)."""
    results = [
        _result("webchat:stub",
                Row("50 visitors at once", "conversations", "/s", 300.0, 900.0, 500),
                Row("50 visitors at once", "reply p50", "ms", 150.0, 1.0, 500),
                Row("200 visitors at once", "ack p99", "ms", 40.0, 1.0, 600)),
        _result("webchat:e5",
                Row("50 visitors at once", LIBRARY_RATE, "/s", 30.0, 60.0, 250),  # 0.5x < 0.6x
                Row("1 visitor at a time", LIBRARY_REPLY, "ms", 30.0, 20.0, 60)),  # 1.5x <= 2x
    ]
    checked = {c.target.label: c for c in check_targets(results)}
    met = {label: c.met for label, c in checked.items()}
    assert list(met.values()) == [True, False, True, False, True]
    ratio = checked[TARGETS[3].label]
    assert ratio.figure == 0.5 and ratio.to_dict()["ours"] == 30.0 and ratio.to_dict()["raw"] == 60.0
    assert [c.met for c in check_targets(results[:1])][3:] == [None, None]  # e5 not run


def test_public_benches_missing_is_reported_not_fatal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delattr(bench, "public", raising=False)
    monkeypatch.setitem(sys.modules, "bench.public", None)  # import bench.public now fails
    assert main(["--only", "public"]) == 0
    assert "public benchmarks not available" in capsys.readouterr().out


def test_public_benches_get_the_mode_and_unknown_options(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    fake = types.ModuleType("bench.public")

    def fake_main(argv: list[str]) -> int:
        calls.append(list(argv))
        return 3

    fake.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setattr(bench, "public", fake, raising=False)
    monkeypatch.setitem(sys.modules, "bench.public", fake)
    assert main(["--only", "public", "--quick", "--dataset", "clinc150"]) == 3
    assert calls == [["--quick", "--dataset", "clinc150"]]


def test_unknown_options_are_refused_when_only_perf_runs() -> None:
    with pytest.raises(SystemExit):
        main(["--only", "perf", "--tiny", "--no-such-option"])
