/* kernels/batchnorm.cl: (to be written) */
