"""Local Redis-protocol servers for the stack, the tests and the benchmarks."""
