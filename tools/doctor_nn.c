/* Doctor checks (to be written). */
#include "doctor.h"

const doctor_check doctor_checks_nn[] = {
    {NULL, NULL},
};
