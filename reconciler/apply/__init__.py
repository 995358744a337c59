"""Applying a plan: Graph operations scheduled by dependency, batched, journaled."""
