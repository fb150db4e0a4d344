# A small seeded pseudo-random generator (xorshift64*), so that the Raft core
# takes no randomness from the environment: the same seed replays the same
# election timeouts.  Not for anything secret.

from libc.stdint cimport uint64_t


cdef struct Rng:
    uint64_t state      # invariant: never 0 (xorshift would stay at 0)


cdef inline void rng_seed(Rng *r, uint64_t seed) noexcept:
    # splitmix64 scrambles the seed, so neighbouring seeds (or member ids
    # mixed into one seed) give unrelated streams
    cdef uint64_t z = seed + <uint64_t>0x9E3779B97F4A7C15
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
    z = z ^ (z >> 31)
    r.state = z if z != 0 else <uint64_t>0x2545F4914F6CDD1D


cdef inline uint64_t rng_next(Rng *r) noexcept:
    cdef uint64_t x = r.state
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    r.state = x
    return x * <uint64_t>0x2545F4914F6CDD1D


cdef inline uint64_t rng_below(Rng *r, uint64_t n) noexcept:
    # uniform enough in [0, n) for n far below 2**32 (election ticks)
    return (rng_next(r) >> 32) % n
