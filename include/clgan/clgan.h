/* libclgan: train GANs on any OpenCL device. Umbrella header. */
#ifndef CLGAN_H
#define CLGAN_H
#include "clgan/status.h"
#include "clgan/version.h"
#include "clgan/device.h"
#include "clgan/program.h"
#include "clgan/ops.h"
#include "clgan/io.h"
#include "clgan/model.h"
#include "clgan/net.h"
#include "clgan/gan.h"
#include "clgan/photo.h"
#include "clgan/imgmetrics.h"
#include "clgan/tile.h"
#endif
