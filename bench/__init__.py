"""authtrail's benchmarks: ``python -m bench`` writes docs/benchmarks.md and .json.

Each benchmark starts the processes it needs on free ports (embedded broker,
services, a peer application), drives them from load generators running in
processes of their own, and returns a :class:`bench.results.Section`. Nothing
here is imported by the product.
"""
