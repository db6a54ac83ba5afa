"""The numeric core: networks, initializers, optimizers and the training engines, on NumPy alone."""
