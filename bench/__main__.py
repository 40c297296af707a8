"""``make bench`` (``python -m bench``): the perf benches, then the public quality
benches (``bench.public``) when that package is present.

    python -m bench                       # everything (~15 min on 2 cores; perf alone ~9)
    python -m bench --quick               # a short run (~2 min)
    python -m bench --only perf           # perf only; --only public, retrieval, webchat or email
    python -m bench --only retrieval --embedders all    # every embedder make_embedder knows
    python -m bench --only webchat --visitors 1,50,200 --web-retrievers stub,e5   # the full run's cases

Options the perf benches do not know are passed on to ``bench.public.main``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.perf import PerfOptions

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                      ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_name, _value)

ONLY = ("all", "perf", "public", "retrieval", "webchat", "email")


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _ints(value: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(v) for v in _csv(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {value!r}") from None
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError("visitor counts must be at least 1")
    return numbers


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", choices=ONLY, default="all", help="which benches to run")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a short run (about 2 minutes)")
    size.add_argument("--tiny", action="store_true", help="seconds, for the test suite (perf only)")
    p.add_argument("--embedders", type=_csv, default=None,
                   help="retrieval: embedder kinds, comma-separated, or 'all' (default: the "
                        "mode's; 'sentence-transformers')")
    p.add_argument("--visitors", type=_ints, default=None,
                   help="web chat: visitor counts (default full: 1,50,200)")
    p.add_argument("--web-retrievers", type=_csv, default=None,
                   help="web chat: 'stub' and/or embedder kinds (default full: stub,e5)")
    p.add_argument("--results", type=Path, default=None, help="directory for the JSON results")
    p.add_argument("--no-save", action="store_true", help="do not write JSON results")
    return p


def perf_options(args: argparse.Namespace) -> PerfOptions:
    from bench.perf import PerfOptions

    opts = PerfOptions.for_mode("tiny" if args.tiny else "quick" if args.quick else "full")
    changes: dict[str, object] = {}
    if args.embedders:
        changes["embedders"] = args.embedders
    if args.visitors:
        changes["visitors"] = args.visitors
    if args.web_retrievers:
        changes["web_retrievers"] = args.web_retrievers
    if args.results is not None:
        changes["results_dir"] = args.results
    if args.no_save:
        changes["results_dir"] = None
    return opts.with_(**changes)


def run_public(args: argparse.Namespace, rest: Sequence[str]) -> int:
    try:
        from bench import public
    except ImportError as exc:
        missing_itself = isinstance(exc, ModuleNotFoundError) and exc.name == "bench.public"
        print(f"public benchmarks not available ({exc})", flush=True)
        return 0 if missing_itself else 1
    public_main = getattr(public, "main", None)
    if public_main is None:
        print("public benchmarks not available (bench.public has no main())", flush=True)
        return 0
    forward = [*(["--quick"] if args.quick else []), *rest]
    return int(public_main(forward) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    args, rest = parser().parse_known_args(argv)
    if rest and args.only not in ("all", "public"):
        parser().error(f"unrecognized arguments: {' '.join(rest)}")
    code = 0
    if args.only != "public":
        from bench.perf import BENCHES, run

        benches = BENCHES if args.only in ("all", "perf") else (args.only,)
        code = run(perf_options(args), benches)
    if args.only in ("all", "public") and not args.tiny:
        code = max(code, run_public(args, rest))
    return code


if __name__ == "__main__":
    sys.exit(main())
