/* kernels/rng.cl: (to be written) */
