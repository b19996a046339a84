/*
 * What systemd's RestrictSUIDSGID=yes (deploy/loa.service) does to loa,
 * for the tests: loaded with LD_PRELOAD, its constructor installs a seccomp
 * filter that refuses with EPERM every mkdir, chmod, mknod, and open/creat
 * with O_CREAT, whose mode asks for the setuid or setgid bit, as systemd's
 * filter does. Installed before loa's main (one thread), it holds for every
 * thread loa starts and every program it runs.
 *
 * Built by tests/cli/ingest.rs with `cc -shared -fPIC`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__)
#define ARCH AUDIT_ARCH_ARM
#else
#error "no seccomp architecture for this machine"
#endif

/* The low 32 bits of argument N (little-endian). */
#define ARG(n) (offsetof(struct seccomp_data, args[n]))
#define SXID (S_ISUID | S_ISGID)
#define DENY BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* NR with its mode in argument M: 5 instructions. */
#define MODE_AT(nr, m)                                          \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4),            \
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG(m)),             \
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SXID, 0, 1), DENY, ALLOW

/* NR with its flags in argument F and its mode in M: 7 instructions. */
#define CREATE_AT(nr, f, m)                                     \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 6),            \
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG(f)),             \
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_CREAT, 0, 3),    \
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG(m)),             \
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SXID, 0, 1), DENY, ALLOW

__attribute__((constructor)) static void no_setgid(void) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
        ALLOW,
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        MODE_AT(__NR_mkdirat, 2),
        MODE_AT(__NR_fchmod, 1),
        MODE_AT(__NR_fchmodat, 2),
        MODE_AT(__NR_mknodat, 2),
        CREATE_AT(__NR_openat, 2, 3),
#ifdef __NR_fchmodat2
        MODE_AT(__NR_fchmodat2, 2),
#endif
#ifdef __NR_mkdir
        MODE_AT(__NR_mkdir, 1),
#endif
#ifdef __NR_chmod
        MODE_AT(__NR_chmod, 1),
#endif
#ifdef __NR_mknod
        MODE_AT(__NR_mknod, 1),
#endif
#ifdef __NR_creat
        MODE_AT(__NR_creat, 1),
#endif
#ifdef __NR_open
        CREATE_AT(__NR_open, 1, 2),
#endif
        ALLOW,
    };
    struct sock_fprog prog = {
        .len = sizeof(filter) / sizeof(filter[0]),
        .filter = filter,
    };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        perror("no-setgid-shim: installing the seccomp filter");
        _exit(121);
    }
}
