/* kernels/reduce.cl: (to be written) */
