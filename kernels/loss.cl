/* kernels/loss.cl: (to be written) */
