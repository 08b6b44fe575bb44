#ifndef CVETOSYSTEM_H
#define CVETOSYSTEM_H

#include <stddef.h>

// sched_getaffinity(2) for the calling thread: Glibc declares it only under _GNU_SOURCE, which
// Swift's Glibc module is not built with, so it is re-exposed here. `mask` holds `size` bytes;
// returns 0, or -1 with errno set (EINVAL: the mask is smaller than the kernel's).
int CVetoSystem_sched_getaffinity(size_t size, void *mask);

#endif
