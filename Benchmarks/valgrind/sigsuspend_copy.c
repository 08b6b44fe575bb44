// Preloaded into Veto when it runs under valgrind (Benchmarks/callgrind.py), never otherwise.
//
// Valgrind 3.19's rt_sigsuspend wrapper edits the caller's signal mask in place. libdispatch's
// dispatch_main(), which Swift's async main ends in, passes a mask in read-only memory, so valgrind
// crashes with "the 'impossible' happened" before main runs. Passing a copy on the stack avoids it.
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
