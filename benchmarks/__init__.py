"""lambdascope's benchmark suite: ``python3 tasks.py bench`` (or ``python -m benchmarks``)."""
