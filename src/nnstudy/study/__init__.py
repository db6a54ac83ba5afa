"""The study's experiments: the grid, its cells (tune, train, gradient-check) and the replication."""
