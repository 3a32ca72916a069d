"""Shared pieces of the evaluation tasks: parsing, metrics, converters, task configs, model, pipeline."""
