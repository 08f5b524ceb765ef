"""All numba code: arrays in, arrays out; no pandas, no objects, no I/O. Imports only numpy and numba."""
