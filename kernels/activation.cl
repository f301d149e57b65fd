/* kernels/activation.cl: (to be written) */
