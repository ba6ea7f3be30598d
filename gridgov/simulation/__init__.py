"""`gridgov simulate`: the real services on a simulated clock (docs/simulation.md)."""
