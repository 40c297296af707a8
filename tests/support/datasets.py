"""Where the shared public data sets are: ``$GUICHET_DATASETS``, else
``shared/datasets`` beside the repository, else the workplace's ``/work/shared/datasets``
(a clean clone made elsewhere, as CI may make, still finds them)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CANDIDATES = (REPO.parent / "shared" / "datasets", Path("/work/shared/datasets"))


def dataset_dir() -> Path:
    env = os.environ.get("GUICHET_DATASETS")
    if env:
        return Path(env)
    for path in CANDIDATES:
        if path.is_dir():
            return path
    return CANDIDATES[0]
