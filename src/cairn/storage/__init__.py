"""Persistence: the LMDB environment, its sub-database table, the writer
thread, and the Raft log storage over them."""
