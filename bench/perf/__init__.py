"""Performance benches: retrieval latency and web chat round trip, each beside its raw
baseline measured in the same run (see ``bench/README.md``).

    from bench.perf import PerfOptions, run
    run(PerfOptions.for_mode("quick"))              # prints tables, writes bench/results/
    results = await run_perf(opts, ["retrieval"])   # BenchResult objects, nothing printed
"""

from bench.perf.options import PerfOptions
from bench.perf.runner import BENCHES, run, run_perf
from bench.perf.stats import BenchResult, Row, Summary

__all__ = ["BENCHES", "BenchResult", "PerfOptions", "Row", "Summary", "run", "run_perf"]
