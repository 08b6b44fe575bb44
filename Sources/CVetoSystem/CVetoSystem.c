#define _GNU_SOURCE
#include <sched.h>

#include "CVetoSystem.h"

int CVetoSystem_sched_getaffinity(size_t size, void *mask) {
    return sched_getaffinity(0, size, (cpu_set_t *)mask);
}
