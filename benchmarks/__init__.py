"""Benchmarks of mtdata and its sandbox: ``python -m benchmarks`` runs them all, each ``bench_*`` module alone."""
