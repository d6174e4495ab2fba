"""Benchmarks of the local engine, side by side with moto's Step Functions interpreter."""
