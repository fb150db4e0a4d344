"""Deterministic simulation of Raft clusters.

A seed fixes everything: cluster size, fault rates, the order of every
tick, delivery, persistence, crash and client request.  After every step
the checker asserts Raft's safety properties.  `python -m tests.sim` runs
many seeds; a failing seed prints the command that replays it.
"""
