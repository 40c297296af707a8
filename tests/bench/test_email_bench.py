"""The SMTP bench (``python -m bench --only email``) end to end in tiny mode: the real
app's listener and the bare aiosmtpd sink are both driven, every message sent to
Guichet is committed exactly once, and the rows are well formed.  No timing is
asserted: figures belong to ``make bench``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.email_smtp import RATE_LABEL, EmailOptions


def test_tiny_email_bench_commits_every_message_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--only", "email", "--tiny", "--results", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "SMTP in" in out and "ours / raw" in out

    [result] = json.loads((tmp_path / "perf-latest.json").read_text())["benches"]
    assert result["name"] == "email:smtp" and result["errors"] == []
    tiny = EmailOptions.for_mode("tiny")
    params = result["params"]
    # every case sends tiny.messages to each side, plus a few unmeasured warm-up messages
    assert params["sent"] >= tiny.messages * len(tiny.clients)
    assert params["committed"] == params["committed_once"] == params["sent"]
    # the bench waits for the jobs: every mail processed (none lost to the yield to SMTP
    # sessions) and the app's CPU per mail measured
    assert params["processed_when_stopped"] == params["sent"]
    assert params["app_cpu_ms_per_mail"] > 0 and params["accept_only_cpu_ms_per_mail"] > 0
    # the second process (job workers off): the same check
    assert params["accept_only_sent"] >= tiny.messages
    accepted = params["accept_only_sent"]
    assert params["accept_only_committed"] == params["accept_only_committed_once"] == accepted

    cases: dict[str, dict[str, dict[str, float]]] = {}
    for row in result["rows"]:
        cases.setdefault(row["case"], {})[row["metric"]] = row
    assert set(cases) == {"1 client", "3 concurrent clients", "3 concurrent clients, job workers off"}
    for metrics in cases.values():
        assert set(metrics) == {"p50", "p95", "p99", RATE_LABEL}
        rate = metrics[RATE_LABEL]
        assert rate["samples"] == tiny.messages  # each message got its 250
        assert rate["ours"] > 0 and rate["raw"] > 0
        assert math.isclose(rate["ratio"], rate["ours"] / rate["raw"])


def test_email_bench_sizes_are_bounded_counts() -> None:
    full = EmailOptions.for_mode("full")
    assert full.messages == 300 and max(full.clients) >= 10
    with pytest.raises(ValueError):
        EmailOptions.for_mode("forever")
