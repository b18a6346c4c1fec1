"""The benchmark suite: data sets, the server under test, a bounded load generator and BENCHMARKS.md."""
