/* kernels/conv.cl: (to be written) */
