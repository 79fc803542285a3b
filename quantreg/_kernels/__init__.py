"""Numba kernels: plain loops over float64 arrays, no pandas."""
