// Linux calls that glibc declares only under _GNU_SOURCE, which Swift's Glibc module does not set.
// Compiled here, with _GNU_SOURCE, so that the system headers it needs are never part of the
// module Swift imports (a header that included them under _GNU_SOURCE defined fd_set unlike
// Glibc's module and broke clean builds).
#define _GNU_SOURCE 1
#include "CPOSIX.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/// pipe2(2) with O_CLOEXEC: both ends close-on-exec from the moment they exist.
int sprig_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

/// F_SETPIPE_SZ, for fcntl(2).
int sprig_set_pipe_size(int fd, int size) { return fcntl(fd, F_SETPIPE_SZ, size); }

/// accept4(2) with SOCK_CLOEXEC: an accepted connection never leaks into a spawned command.
int sprig_accept_cloexec(int fd) { return accept4(fd, 0, 0, O_CLOEXEC); }


static int sprig_spawn_child(void *argument) {
    struct sprig_spawn_plan *plan = (struct sprig_spawn_plan *)argument;
    // Every signal is blocked (the parent blocked them before clone): no handler of the parent's
    // can run on this stack. Handlers go back to SIG_DFL before the mask is cleared, as
    // posix_spawn does, but only where one is set (posix_spawn sets every signal again).
    struct sigaction action;
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal == SIGKILL || signal == SIGSTOP) continue;
        if (sigaction(signal, 0, &action) != 0) continue;
        int reset = action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN;
        for (int i = 0; !reset && i < plan->default_count; i++) reset = plan->defaults[i] == signal && action.sa_handler == SIG_IGN;
        if (!reset) continue;
        memset(&action, 0, sizeof action);
        action.sa_handler = SIG_DFL;
        sigaction(signal, &action, 0);
    }
    for (int i = 0; i < plan->count; i++) {
        if (plan->from[i] == plan->to[i]) {
            int flags = fcntl(plan->to[i], F_GETFD);
            if (flags < 0 || fcntl(plan->to[i], F_SETFD, flags & ~FD_CLOEXEC) < 0) { plan->error = errno; _exit(127); }
        } else if (dup2(plan->from[i], plan->to[i]) < 0) {
            plan->error = errno;
            _exit(127);
        }
    }
    if (plan->new_group && setpgid(0, 0) != 0) { plan->error = errno; _exit(127); }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    execve(plan->path, plan->argv, plan->envp);
    plan->error = errno;
    _exit(127);
}

/// Starts `plan->path` as posix_spawn does (a child sharing this process's memory until it execs,
/// `CLONE_VM | CLONE_VFORK`), but on a stack this thread keeps for its spawns instead of one mapped
/// and unmapped per call: unmapping it cost a TLB shootdown on every core that ran this process,
/// about 15 % of a spawning thread's time here. Returns the child's pid, or -1 with `*error` set
/// (from clone, or from the child when it could not exec; then it has been reaped).
/// The key of each thread's spawn stack, freed when the thread ends (the key's destructor).
static pthread_key_t *sprig_spawn_stack_key(void) {
    static pthread_key_t key;
    return &key;
}
static void sprig_spawn_make_key(void) { pthread_key_create(sprig_spawn_stack_key(), free); }

int sprig_spawn(struct sprig_spawn_plan *plan, int *error) {
    enum { stack_size = 64 * 1024 };
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sprig_spawn_make_key);
    char *stack = (char *)pthread_getspecific(*sprig_spawn_stack_key());
    if (!stack) {
        if (!(stack = (char *)malloc(stack_size))) { *error = ENOMEM; return -1; }
        pthread_setspecific(*sprig_spawn_stack_key(), stack);
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    plan->error = 0;
    pid_t pid = clone(sprig_spawn_child, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, plan);
    int cloned = errno;
    pthread_sigmask(SIG_SETMASK, &old, 0);
    if (pid < 0) { *error = cloned; return -1; }
    if (plan->error != 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *error = plan->error;
        return -1;
    }
    return pid;
}

