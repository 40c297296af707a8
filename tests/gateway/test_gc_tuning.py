"""``[server] gc_threshold``: how often ``guichet serve`` collects young garbage."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import gc_tuning
from gateway.config import ConfigError, Settings, load_settings


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_server_collects_young_garbage_less_often_than_python_by_default() -> None:
    threshold = Settings().server.gc_threshold
    gc.set_threshold(700, 10, 10)
    gc_tuning.apply(threshold)
    assert gc.get_threshold() == (threshold, 10, 10) and threshold > 700


def test_zero_keeps_pythons_own_setting() -> None:
    gc.set_threshold(700, 10, 10)
    gc_tuning.apply(0)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_negative_threshold_is_refused_with_the_settings_name() -> None:
    with pytest.raises(ValueError, match=r"server\.gc_threshold"):
        gc_tuning.apply(-1)


def test_the_setting_is_read_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "guichet.toml"
    path.write_text("[server]\ngc_threshold = 0\n", "utf-8")
    assert load_settings(path).server.gc_threshold == 0


def test_a_negative_threshold_in_the_config_file_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "guichet.toml"
    path.write_text("[server]\ngc_threshold = -5\n", "utf-8")
    with pytest.raises(ConfigError, match=r"server\.gc_threshold"):
        load_settings(path)
