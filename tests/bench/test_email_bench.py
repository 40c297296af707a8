"""The SMTP bench (``python -m bench --only email``) end to end in tiny mode: the real
app's listener, the bare aiosmtpd sink and the durable sink are all driven, every
message sent to Guichet is committed exactly once and processed, the durable sink
really stores what it acknowledged, and the rows are well formed.  No timing is
asserted: figures belong to ``make bench``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.email_servers import DurableSinkHandler
from bench.email_smtp import END_TO_END_LABEL, RATE_LABEL, EmailOptions


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
    plain = ["1 client", "3 concurrent clients", "3 concurrent clients, job workers off"]
    assert set(cases) == {*plain, *(f"{case}, vs the durable sink" for case in plain)}
    for case in plain[:2]:  # with job workers: also every mail processed and its reply relayed
        end_to_end = cases[case].pop(END_TO_END_LABEL)
        assert end_to_end["samples"] == tiny.messages and end_to_end["ours"] > 0
        assert end_to_end["ours"] <= cases[case][RATE_LABEL]["ours"]  # it includes the processing
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


async def test_the_durable_sink_has_each_message_on_disk_before_its_250(tmp_path: Path) -> None:
    from types import SimpleNamespace

    handler = DurableSinkHandler(tmp_path / "sink.mbox")
    for n in range(3):
        envelope = SimpleNamespace(mail_from=f"c{n}@example.org", content=None,
                                   original_content=b"Subject: x\r\n\r\nhi\r\n")
        assert await handler.handle_DATA(None, None, envelope) == "250 OK"
    stored = (tmp_path / "sink.mbox").read_bytes()
    assert stored.count(b"Subject: x") == 3 and b"From c2@example.org" in stored
