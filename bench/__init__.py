"""Benchmarks (``make bench``): every figure is printed beside its raw baseline
measured in the same run, as a ratio.  No timing assertions live in the tests."""
