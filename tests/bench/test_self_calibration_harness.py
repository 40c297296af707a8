"""The development harness refuses the sealed evaluation KBs (issue 10's evaluation
discipline): nothing is collected or ranked on them, whatever the path spelling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import feature_trials, self_calibration

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kb", ["isp", "library", "energy", "airline", "saas"])
def test_collect_rank_and_eval_refuse_a_sealed_kb(kb: str, tmp_path: Path) -> None:
    sealed = ROOT / "examples" / "eval" / kb
    with pytest.raises(SystemExit, match="sealed"):
        self_calibration.collect(str(sealed / "kb"), str(sealed / "cases.jsonl"), str(tmp_path / "o.json"),
                                 str(tmp_path / "index"))
    with pytest.raises(SystemExit, match="sealed"):
        self_calibration.main(["rank", str(tmp_path / "index"), f"{sealed}/../{kb}/cases.jsonl"])
    with pytest.raises(SystemExit, match="sealed"):
        self_calibration.main(["eval", str(sealed / "kb"), str(sealed / "cases.jsonl"), "--index",
                               str(tmp_path / "index")])
    assert not (tmp_path / "o.json").exists() and not (tmp_path / "index").exists()


def test_feature_trials_refuse_features_collected_on_a_sealed_kb(tmp_path: Path) -> None:
    collected = tmp_path / "sc.json"
    collected.write_text(json.dumps({"kb": str(ROOT / "examples" / "eval" / "energy" / "kb"), "cases": []}))
    with pytest.raises(SystemExit, match="sealed"):
        feature_trials.main([str(collected), "--extra", "unk"])
