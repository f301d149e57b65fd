/* kernels/optim.cl: (to be written) */
