// Linux calls that glibc declares only under _GNU_SOURCE, which Swift's Glibc module does not set.
#ifndef SPRIG_CPOSIX_SHIM_H
#define SPRIG_CPOSIX_SHIM_H
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <unistd.h>

/// pipe2(2) with O_CLOEXEC: both ends close-on-exec from the moment they exist.
static inline int sprig_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

/// F_SETPIPE_SZ, for fcntl(2).
static inline int sprig_set_pipe_size(int fd, int size) { return fcntl(fd, F_SETPIPE_SZ, size); }

/// accept4(2) with SOCK_CLOEXEC: an accepted connection never leaks into a spawned command.
/// (Declared here rather than through <sys/socket.h>, whose types would then clash with Glibc's.)
struct sockaddr;
extern int accept4(int fd, struct sockaddr *address, unsigned int *length, int flags);
static inline int sprig_accept_cloexec(int fd) { return accept4(fd, 0, 0, O_CLOEXEC); }

#endif
