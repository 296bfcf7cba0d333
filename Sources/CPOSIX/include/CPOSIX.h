// Linux calls that glibc declares only under _GNU_SOURCE, which Swift's Glibc module does not set,
// wrapped in functions compiled in shim.c. This header includes no system header: one included
// here under _GNU_SOURCE would define types (fd_set) unlike Glibc's module.
#ifndef SPRIG_CPOSIX_H
#define SPRIG_CPOSIX_H

/// pipe2(2) with O_CLOEXEC: both ends close-on-exec from the moment they exist.
int sprig_pipe_cloexec(int fds[2]);

/// F_SETPIPE_SZ, for fcntl(2).
int sprig_set_pipe_size(int fd, int size);

/// accept4(2) with SOCK_CLOEXEC: an accepted connection never leaks into a spawned command.
int sprig_accept_cloexec(int fd);

/// What `sprig_spawn`'s child does before `execve`; filled by the parent, read by the child.
struct sprig_spawn_plan {
    const char *path;
    char *const *argv;
    char *const *envp;
    const int *from;        // for i < count: dup2(from[i], to[i]), in that order
    const int *to;
    int count;
    int new_group;          // setpgid(0, 0)
    const int *defaults;    // signals to reset to SIG_DFL even when ignored (SIGPIPE, SIGINT, ...)
    int default_count;
    volatile int error;     // set by the child when it cannot exec (the parent reads it afterwards)
};

/// Starts `plan->path` as posix_spawn does (a child sharing this process's memory until it execs,
/// `CLONE_VM | CLONE_VFORK`), but on a stack this thread keeps for its spawns instead of one mapped
/// and unmapped per call (see shim.c). Returns the child's pid, or -1 with `*error` set (from
/// clone, or from the child when it could not exec; then it has been reaped).
int sprig_spawn(struct sprig_spawn_plan *plan, int *error);

#endif
