/*
 * durable-shim.c: an LD_PRELOAD library for the power-cut test
 * (tests/cli/powercut.rs). It keeps, in a shadow folder, what a power cut
 * would leave of a folder: a file's contents reach the shadow only when the
 * program syncs that file, as they would reach the SD card.
 *
 *   LOA_DURABLE_SRC  the folder watched (absolute, canonical: the state folder)
 *   LOA_DURABLE_DST  the shadow folder (absolute)
 *
 * The model is ext4's with its journal (Raspberry Pi OS's root and data
 * partitions), taken at its most pessimistic:
 *   - fsync/fdatasync of a regular file below SRC: the file's current
 *     contents, under its current name, become durable (ext4 commits a new
 *     file's name with its first fsync). Copied after the real sync returns
 *     and before the caller sees it return; a kill in between leaves the
 *     previous version, as a cut during the sync would.
 *   - a file never synced does not exist after the cut, whatever was written.
 *   - rename/renameat below SRC: durable only once the new name's folder is
 *     synced (fsync of a directory fd); then the shadow copy moves too.
 *   - fsync of a directory below SRC: the renames into it are applied, and
 *     shadow files whose name no longer exists in it are removed (unlinks).
 *   - nothing else is ever durable: no periodic writeback, no sync(2).
 *     syncfs(2) and sync(2) are not used by loa; they are left alone.
 * The shadow is written with a temporary name and a rename, so that the test
 * reading it after SIGKILL never sees half a copy. SQLite (bundled, built
 * without HAVE_FDATASYNC) syncs with fsync(2), directories included; Rust's
 * File::sync_all/sync_data call fsync/fdatasync through libc.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Renames not yet made durable: (old, new), both relative to SRC. */
#define MAX_RENAMES 256
static char pending_old[MAX_RENAMES][PATH_MAX];
static char pending_new[MAX_RENAMES][PATH_MAX];
static int pending_count;

static const char *src_dir(void) { return getenv("LOA_DURABLE_SRC"); }
static const char *dst_dir(void) { return getenv("LOA_DURABLE_DST"); }

/* The part of `path` below SRC ("" for SRC itself), or NULL. */
static const char *below_src(const char *path) {
    const char *src = src_dir();
    if (!src || !dst_dir()) return NULL;
    size_t n = strlen(src);
    if (strncmp(path, src, n) != 0) return NULL;
    if (path[n] == 0) return path + n;
    if (path[n] != '/') return NULL;
    return path + n + 1;
}

static void shadow_path(char *out, const char *rel) {
    if (*rel)
        snprintf(out, PATH_MAX, "%s/%s", dst_dir(), rel);
    else
        snprintf(out, PATH_MAX, "%s", dst_dir());
}

static void make_parents(const char *path) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    }
}

/* Copies the live file `live` (opened anew, read from the start) to the
 * shadow path for `rel`, through a temporary name. */
static void copy_to_shadow(const char *live, const char *rel) {
    char dst[PATH_MAX], tmp[PATH_MAX + 32];
    shadow_path(dst, rel);
    snprintf(tmp, sizeof tmp, "%s.shadowtmp", dst);
    make_parents(dst);
    int in = open(live, O_RDONLY | O_CLOEXEC);
    if (in < 0) return;
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return;
    }
    char buf[65536];
    ssize_t n;
    int ok = 1;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            ok = 0;
            break;
        }
    }
    close(in);
    close(out);
    if (ok && n == 0)
        rename(tmp, dst);
    else
        unlink(tmp);
}

/* The directory `rel` (below SRC) was synced: its pending renames become
 * durable, and shadow files whose live name is gone are removed. */
static void dir_synced(const char *live_dir, const char *rel) {
    size_t rn = strlen(rel);
    for (int i = 0; i < pending_count; i++) {
        const char *nw = pending_new[i];
        const char *slash = strrchr(nw, '/');
        size_t parent_len = slash ? (size_t)(slash - nw) : 0;
        if (parent_len != rn || strncmp(nw, rel, rn) != 0) continue;
        char from[PATH_MAX], to[PATH_MAX];
        shadow_path(from, pending_old[i]);
        shadow_path(to, nw);
        make_parents(to);
        rename(from, to);
        pending_count--;
        memmove(pending_old[i], pending_old[pending_count], PATH_MAX);
        memmove(pending_new[i], pending_new[pending_count], PATH_MAX);
        i--;
    }
    char shadow[PATH_MAX];
    shadow_path(shadow, rel);
    DIR *d = opendir(shadow);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_type != DT_REG) continue;
        char live[PATH_MAX + 256], gone[PATH_MAX + 256];
        snprintf(live, sizeof live, "%s/%s", live_dir, e->d_name);
        if (access(live, F_OK) != 0 && errno == ENOENT) {
            snprintf(gone, sizeof gone, "%s/%s", shadow, e->d_name);
            unlink(gone);
        }
    }
    closedir(d);
}

static void synced(int fd) {
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return;
    path[n] = 0;
    const char *rel = below_src(path);
    if (!rel) return;
    struct stat st;
    if (fstat(fd, &st) != 0) return;
    int saved = errno;
    pthread_mutex_lock(&lock);
    if (S_ISREG(st.st_mode))
        copy_to_shadow(path, rel);
    else if (S_ISDIR(st.st_mode))
        dir_synced(path, rel);
    pthread_mutex_unlock(&lock);
    errno = saved;
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int rc = real(fd);
    if (rc == 0) synced(fd);
    return rc;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int rc = real(fd);
    if (rc == 0) synced(fd);
    return rc;
}

/* The absolute path of `path` relative to `dirfd`, as far as the shim
 * needs it (the parent folder resolved through /proc when relative). */
static int absolute(int dirfd, const char *path, char *out) {
    if (path[0] == '/') {
        snprintf(out, PATH_MAX, "%s", path);
        return 1;
    }
    char link[64], base[PATH_MAX];
    ssize_t n;
    if (dirfd == AT_FDCWD)
        n = getcwd(base, sizeof base) ? (ssize_t)strlen(base) : -1;
    else {
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        n = readlink(link, base, sizeof base - 1);
        if (n > 0) base[n] = 0;
    }
    if (n <= 0) return 0;
    snprintf(out, PATH_MAX, "%s/%s", base, path);
    return 1;
}

static void renamed(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    char o[PATH_MAX], w[PATH_MAX];
    if (!absolute(olddirfd, oldpath, o) || !absolute(newdirfd, newpath, w)) return;
    const char *ro = below_src(o), *rw = below_src(w);
    if (!ro || !rw) return;
    pthread_mutex_lock(&lock);
    if (pending_count < MAX_RENAMES) {
        snprintf(pending_old[pending_count], PATH_MAX, "%s", ro);
        snprintf(pending_new[pending_count], PATH_MAX, "%s", rw);
        pending_count++;
    }
    pthread_mutex_unlock(&lock);
}

int rename(const char *oldpath, const char *newpath) {
    static int (*real)(const char *, const char *);
    if (!real) real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    int rc = real(oldpath, newpath);
    if (rc == 0) {
        int saved = errno;
        renamed(AT_FDCWD, oldpath, AT_FDCWD, newpath);
        errno = saved;
    }
    return rc;
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    static int (*real)(int, const char *, int, const char *);
    if (!real) real = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
    int rc = real(olddirfd, oldpath, newdirfd, newpath);
    if (rc == 0) {
        int saved = errno;
        renamed(olddirfd, oldpath, newdirfd, newpath);
        errno = saved;
    }
    return rc;
}
