/* Power-cut shim: an LD_PRELOAD library that journals what a power cut would lose.
 *
 * For every regular file and directory under $POWERCUT_ROOT it appends, BEFORE each
 * change, an undo record to $POWERCUT_JOURNAL (one write(2) per record, O_APPEND):
 *
 *   WRITE   pre-image of a write/pwrite/writev/pwritev/sendfile/copy_file_range:
 *           offset, old bytes, old size
 *   TRUNC   pre-image of an ftruncate/truncate/O_TRUNC: old size, bytes cut off
 *   CREATE  a new file or directory entry (open with O_CREAT that created it, mkdir)
 *   RENAME  old and new name
 *   UNLINK  an entry removed (treated as durable at once; see docs/powercut.md)
 *
 * and AFTER each fsync/fdatasync/msync returned a barrier: FSYNC (this file's data is
 * durable up to here) or DIRSYNC (this directory's entries are). The kernel keeps every
 * buffer across kill -9, so after killing the processes the rollback tool
 * (tests/powercut/journal.py) undoes, newest first, each record that no later barrier
 * covers: that is the disk as a power cut at the moment of the kill leaves it.
 *
 * Files ending in "-shm" are not tracked: SQLite's wal-index is shared memory that a
 * reboot does not keep; the rollback deletes it. A writable shared mmap of any other
 * tracked file cannot be journaled and is recorded as UNMODELLED, which fails the run.
 * fsync itself is not passed to the kernel unless POWERCUT_REAL_FSYNC=1: durability is
 * what the journal says, and the shared test machine is spared the flushes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum { R_WRITE = 1, R_TRUNC = 2, R_FSYNC = 3, R_CREATE = 4, R_RENAME = 5,
       R_DIRSYNC = 7, R_UNLINK = 8, R_SYNCALL = 9, R_UNMODELLED = 10 };

#define MAGIC 0x54554350u /* "PCUT" */

struct rec {
    uint32_t magic, type, pid, path_len, path2_len, data_len;
    uint64_t dev, ino;
    int64_t off, old_size, len;
};

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off64_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_truncate)(const char *, off_t);
static int (*real_truncate64)(const char *, off64_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_msync)(void *, size_t, int);
static void (*real_sync)(void);
static int (*real_syncfs)(int);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_creat)(const char *, mode_t);
static int (*real_creat64)(const char *, mode_t);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned int);
static int (*real_mkdir)(const char *, mode_t);
static int (*real_mkdirat)(int, const char *, mode_t);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rmdir)(const char *);
static ssize_t (*real_sendfile)(int, int, off_t *, size_t);
static ssize_t (*real_sendfile64)(int, int, off64_t *, size_t);
static ssize_t (*real_copy_file_range)(int, off64_t *, int, off64_t *, size_t, unsigned int);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off64_t);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char root[PATH_MAX];
static size_t root_len;
static int journal_fd = -1;
static int real_fsync_on;

#define LOAD(name) real_##name = dlsym(RTLD_NEXT, #name)

static void init(void) {
    LOAD(write); LOAD(pwrite); LOAD(pwrite64); LOAD(writev); LOAD(pwritev);
    LOAD(pwritev64); LOAD(ftruncate); LOAD(ftruncate64); LOAD(truncate);
    LOAD(truncate64); LOAD(fsync);
    LOAD(fdatasync); LOAD(msync); LOAD(sync); LOAD(syncfs); LOAD(open); LOAD(open64);
    LOAD(openat); LOAD(openat64); LOAD(creat); LOAD(creat64); LOAD(rename);
    LOAD(renameat); LOAD(renameat2); LOAD(mkdir); LOAD(mkdirat); LOAD(unlink);
    LOAD(unlinkat); LOAD(rmdir); LOAD(mmap); LOAD(mmap64); LOAD(sendfile);
    LOAD(sendfile64); LOAD(copy_file_range);
    const char *r = getenv("POWERCUT_ROOT");
    const char *j = getenv("POWERCUT_JOURNAL");
    const char *f = getenv("POWERCUT_REAL_FSYNC");
    real_fsync_on = f && strcmp(f, "1") == 0;
    if (!r || !j || !realpath(r, root)) return;
    root_len = strlen(root);
    journal_fd = real_open(j, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

static inline void ensure(void) { pthread_once(&once, init); }

static int under_root(const char *path) {
    if (journal_fd < 0 || strncmp(path, root, root_len) != 0) return 0;
    if (path[root_len] != '\0' && path[root_len] != '/') return 0;
    size_t n = strlen(path);
    return !(n >= 4 && strcmp(path + n - 4, "-shm") == 0);
}

/* The absolute path behind fd, or 0 if it is not a tracked file or directory. */
static int fd_path(int fd, char *out, struct stat *st) {
    if (journal_fd < 0 || fd < 0 || fstat(fd, st) != 0) return 0;
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) return 0;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, out, PATH_MAX - 1);
    if (n <= 0) return 0;
    out[n] = '\0';
    return under_root(out);
}

/* Absolute form of (dirfd, path) without following the last component. */
static int abs_path(int dirfd, const char *path, char *out) {
    char base[PATH_MAX];
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (path[0] == '/' || dirfd == AT_FDCWD) {
        if (slash) {
            size_t k = slash == path ? 1 : (size_t)(slash - path);
            memcpy(dir, path, k); dir[k] = '\0';
        } else strcpy(dir, ".");
        if (!realpath(dir, base)) return 0;
    } else {
        char link[64], d[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t n = readlink(link, d, PATH_MAX - 1);
        if (n <= 0) return 0;
        d[n] = '\0';
        if (slash) {
            if (snprintf(dir, sizeof dir, "%s/%.*s", d, (int)(slash - path), path) >=
                (int)sizeof dir || !realpath(dir, base))
                return 0;
        } else strcpy(base, d);
    }
    const char *name = slash ? slash + 1 : path;
    if (snprintf(out, PATH_MAX, "%s/%s", strcmp(base, "/") ? base : "", name) >= PATH_MAX)
        return 0;
    return 1;
}

static void emit(uint32_t type, const struct stat *st, const char *path, const char *path2,
                 int64_t off, int64_t old_size, int64_t len, const void *data,
                 uint32_t data_len) {
    struct rec h = {MAGIC, type, (uint32_t)getpid(), 0, 0, data_len,
                    st ? (uint64_t)st->st_dev : 0, st ? (uint64_t)st->st_ino : 0,
                    off, old_size, len};
    h.path_len = path ? (uint32_t)strlen(path) : 0;
    h.path2_len = path2 ? (uint32_t)strlen(path2) : 0;
    struct iovec v[4] = {{&h, sizeof h}, {(void *)path, h.path_len},
                         {(void *)path2, h.path2_len}, {(void *)data, data_len}};
    /* One writev: O_APPEND keeps records whole and in order across processes. */
    ssize_t want = (ssize_t)(sizeof h + h.path_len + h.path2_len + data_len);
    if (real_writev(journal_fd, v, 4) != want) {
        static const char msg[] = "powercut shim: journal write failed\n";
        real_write(2, msg, sizeof msg - 1);
        abort();
    }
}

/* Pre-image of [off, off+len) of a tracked file; fd may be write-only. */
static void record_write(int fd, const char *path, const struct stat *st, off_t off,
                         size_t len) {
    int64_t size = st->st_size;
    size_t keep = off < size ? (size_t)((size - off) < (int64_t)len ? size - off : (int64_t)len) : 0;
    char *old = NULL;
    if (keep) {
        old = malloc(keep);
        ssize_t got = pread(fd, old, keep, off);
        if (got < 0 && errno == EBADF) {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            int rfd = real_open(link, O_RDONLY | O_CLOEXEC);
            got = rfd >= 0 ? pread(rfd, old, keep, off) : -1;
            if (rfd >= 0) close(rfd);
        }
        if (got != (ssize_t)keep) {
            static const char msg[] = "powercut shim: cannot read a pre-image\n";
            real_write(2, msg, sizeof msg - 1);
            abort();
        }
    }
    emit(R_WRITE, st, path, NULL, off, size, (int64_t)len, old, (uint32_t)keep);
    free(old);
}

static void record_trunc(int fd, const char *path, const struct stat *st, off_t len) {
    int64_t size = st->st_size;
    size_t cut = len < size ? (size_t)(size - len) : 0;
    char *old = NULL;
    if (cut) {
        old = malloc(cut);
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        int rfd = real_open(link, O_RDONLY | O_CLOEXEC);
        if (rfd < 0 || pread(rfd, old, cut, len) != (ssize_t)cut) abort();
        close(rfd);
    }
    emit(R_TRUNC, st, path, NULL, len, size, len, old, (uint32_t)cut);
    free(old);
}

static int is_sync_fd(int fd) {
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & (O_SYNC | O_DSYNC));
}

/* ---- writes ---------------------------------------------------------------------- */

#define WRITE_PROLOGUE(off_expr, len_expr)                                   \
    ensure();                                                                \
    char path[PATH_MAX];                                                     \
    struct stat st;                                                          \
    int tracked = journal_fd >= 0 && fd_path(fd, path, &st) && S_ISREG(st.st_mode); \
    if (tracked) {                                                           \
        pthread_mutex_lock(&lock);                                           \
        fstat(fd, &st);                                                      \
        record_write(fd, path, &st, (off_expr), (len_expr));                 \
    }

#define WRITE_EPILOGUE(ret)                                                  \
    if (tracked) {                                                           \
        int e = errno;                                                       \
        if (ret >= 0 && is_sync_fd(fd)) emit(R_FSYNC, &st, path, NULL, 0, 0, 0, NULL, 0); \
        pthread_mutex_unlock(&lock);                                         \
        errno = e;                                                           \
    }

static off_t cur_off(int fd, const struct stat *st) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_APPEND)) return st->st_size;
    return lseek(fd, 0, SEEK_CUR);
}

static size_t iov_len(const struct iovec *iov, int n) {
    size_t t = 0;
    for (int i = 0; i < n; i++) t += iov[i].iov_len;
    return t;
}

ssize_t write(int fd, const void *buf, size_t n) {
    ensure();
    char path[PATH_MAX];
    struct stat st;
    int tracked = journal_fd >= 0 && fd_path(fd, path, &st) && S_ISREG(st.st_mode);
    if (tracked) {
        pthread_mutex_lock(&lock);
        fstat(fd, &st);
        record_write(fd, path, &st, cur_off(fd, &st), n);
    }
    ssize_t r = real_write(fd, buf, n);
    WRITE_EPILOGUE(r)
    return r;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    WRITE_PROLOGUE(off, n)
    ssize_t r = real_pwrite(fd, buf, n, off);
    WRITE_EPILOGUE(r)
    return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
    WRITE_PROLOGUE(off, n)
    ssize_t r = real_pwrite64(fd, buf, n, off);
    WRITE_EPILOGUE(r)
    return r;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    ensure();
    char path[PATH_MAX];
    struct stat st;
    int tracked = journal_fd >= 0 && fd_path(fd, path, &st) && S_ISREG(st.st_mode);
    if (tracked) {
        pthread_mutex_lock(&lock);
        fstat(fd, &st);
        record_write(fd, path, &st, cur_off(fd, &st), iov_len(iov, cnt));
    }
    ssize_t r = real_writev(fd, iov, cnt);
    WRITE_EPILOGUE(r)
    return r;
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
    WRITE_PROLOGUE(off, iov_len(iov, cnt))
    ssize_t r = real_pwritev(fd, iov, cnt, off);
    WRITE_EPILOGUE(r)
    return r;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off) {
    WRITE_PROLOGUE(off, iov_len(iov, cnt))
    ssize_t r = real_pwritev64(fd, iov, cnt, off);
    WRITE_EPILOGUE(r)
    return r;
}

ssize_t sendfile(int fd, int in, off_t *in_off, size_t n) {
    ensure();
    char path[PATH_MAX];
    struct stat st;
    int tracked = journal_fd >= 0 && fd_path(fd, path, &st) && S_ISREG(st.st_mode);
    if (tracked) {
        pthread_mutex_lock(&lock);
        fstat(fd, &st);
        record_write(fd, path, &st, cur_off(fd, &st), n);
    }
    ssize_t r = real_sendfile(fd, in, in_off, n);
    WRITE_EPILOGUE(r)
    return r;
}

ssize_t sendfile64(int fd, int in, off64_t *in_off, size_t n) {
    ensure();
    char path[PATH_MAX];
    struct stat st;
    int tracked = journal_fd >= 0 && fd_path(fd, path, &st) && S_ISREG(st.st_mode);
    if (tracked) {
        pthread_mutex_lock(&lock);
        fstat(fd, &st);
        record_write(fd, path, &st, cur_off(fd, &st), n);
    }
    ssize_t r = real_sendfile64(fd, in, in_off, n);
    WRITE_EPILOGUE(r)
    return r;
}

ssize_t copy_file_range(int in, off64_t *in_off, int fd, off64_t *out_off, size_t n,
                        unsigned int flags) {
    ensure();
    char path[PATH_MAX];
    struct stat st;
    int tracked = journal_fd >= 0 && fd_path(fd, path, &st) && S_ISREG(st.st_mode);
    if (tracked) {
        pthread_mutex_lock(&lock);
        fstat(fd, &st);
        record_write(fd, path, &st, out_off ? *out_off : cur_off(fd, &st), n);
    }
    ssize_t r = real_copy_file_range(in, in_off, fd, out_off, n, flags);
    WRITE_EPILOGUE(r)
    return r;
}

static int do_ftruncate(int fd, off64_t len, int is64) {
    ensure();
    char path[PATH_MAX];
    struct stat st;
    int tracked = journal_fd >= 0 && fd_path(fd, path, &st) && S_ISREG(st.st_mode);
    if (tracked) {
        pthread_mutex_lock(&lock);
        fstat(fd, &st);
        record_trunc(fd, path, &st, len);
    }
    int r = is64 ? real_ftruncate64(fd, len) : real_ftruncate(fd, (off_t)len);
    if (tracked) {
        int e = errno;
        pthread_mutex_unlock(&lock);
        errno = e;
    }
    return r;
}

int ftruncate(int fd, off_t len) { return do_ftruncate(fd, len, 0); }
int ftruncate64(int fd, off64_t len) { return do_ftruncate(fd, len, 1); }

static int do_truncate(const char *p, off64_t len, int is64) {
    ensure();
    int fd = real_open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return is64 ? real_truncate64(p, len) : real_truncate(p, (off_t)len);
    int r = do_ftruncate(fd, len, is64);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

int truncate(const char *p, off_t len) { return do_truncate(p, len, 0); }
int truncate64(const char *p, off64_t len) { return do_truncate(p, len, 1); }

/* ---- barriers --------------------------------------------------------------------- */

static int do_fsync(int fd, int data_only) {
    ensure();
    char path[PATH_MAX];
    struct stat st;
    int tracked = fd_path(fd, path, &st);
    int r = 0;
    if (real_fsync_on || !tracked) r = data_only ? real_fdatasync(fd) : real_fsync(fd);
    if (r == 0 && tracked) {
        int e = errno;
        pthread_mutex_lock(&lock);
        emit(S_ISDIR(st.st_mode) ? R_DIRSYNC : R_FSYNC, &st, path, NULL, 0, 0, 0, NULL, 0);
        pthread_mutex_unlock(&lock);
        errno = e;
    }
    return r;
}

int fsync(int fd) { return do_fsync(fd, 0); }
int fdatasync(int fd) { return do_fsync(fd, 1); }

void sync(void) {
    ensure();
    real_sync();
    if (journal_fd >= 0) {
        pthread_mutex_lock(&lock);
        emit(R_SYNCALL, NULL, NULL, NULL, 0, 0, 0, NULL, 0);
        pthread_mutex_unlock(&lock);
    }
}

int syncfs(int fd) {
    ensure();
    int r = real_syncfs(fd);
    if (r == 0 && journal_fd >= 0) {
        pthread_mutex_lock(&lock);
        emit(R_SYNCALL, NULL, NULL, NULL, 0, 0, 0, NULL, 0);
        pthread_mutex_unlock(&lock);
    }
    return r;
}

int msync(void *addr, size_t len, int flags) {
    /* Only -shm is mapped writable (untracked); other mappings are refused in mmap. */
    ensure();
    return real_msync(addr, len, flags);
}

static void check_map(int prot, int flags, int fd) {
    char path[PATH_MAX];
    struct stat st;
    if ((prot & PROT_WRITE) && (flags & MAP_SHARED) && fd_path(fd, path, &st)) {
        pthread_mutex_lock(&lock);
        emit(R_UNMODELLED, &st, path, NULL, 0, 0, 0, "mmap", 4);
        pthread_mutex_unlock(&lock);
    }
}

void *mmap(void *a, size_t n, int prot, int flags, int fd, off_t off) {
    ensure();
    check_map(prot, flags, fd);
    return real_mmap(a, n, prot, flags, fd, off);
}

void *mmap64(void *a, size_t n, int prot, int flags, int fd, off64_t off) {
    ensure();
    check_map(prot, flags, fd);
    return real_mmap64(a, n, prot, flags, fd, off);
}

/* ---- names ------------------------------------------------------------------------- */

/* Open with the pre-image of what O_CREAT / O_TRUNC change. */
static int do_open(int dirfd, const char *p, int flags, mode_t mode,
                   int (*call)(int, const char *, int, mode_t)) {
    ensure();
    if (journal_fd < 0 || !(flags & (O_CREAT | O_TRUNC)))
        return call(dirfd, p, flags, mode);
    char abs[PATH_MAX];
    if (!abs_path(dirfd, p, abs) || !under_root(abs)) return call(dirfd, p, flags, mode);
    pthread_mutex_lock(&lock);
    struct stat before;
    int existed = fstatat(dirfd, p, &before, 0) == 0;
    if (existed && (flags & O_TRUNC) && S_ISREG(before.st_mode) && before.st_size > 0) {
        int rfd = real_openat(dirfd, p, O_RDONLY | O_CLOEXEC);
        if (rfd >= 0) {
            record_trunc(rfd, abs, &before, 0);
            close(rfd);
        }
    }
    int fd = call(dirfd, p, flags, mode);
    int e = errno;
    struct stat st;
    if (fd >= 0 && !existed && fstat(fd, &st) == 0)
        emit(R_CREATE, &st, abs, NULL, 0, 0, 0, NULL, 0);
    pthread_mutex_unlock(&lock);
    errno = e;
    return fd;
}

static int call_openat(int d, const char *p, int f, mode_t m) { return real_openat(d, p, f, m); }
static int call_openat64(int d, const char *p, int f, mode_t m) { return real_openat64(d, p, f, m); }

#define MODE_ARG(flags)                                                      \
    mode_t mode = 0;                                                         \
    if ((flags) & (O_CREAT | O_TMPFILE)) {                                   \
        va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); \
    }

int open(const char *p, int flags, ...) { MODE_ARG(flags) return do_open(AT_FDCWD, p, flags, mode, call_openat); }
int open64(const char *p, int flags, ...) { MODE_ARG(flags) return do_open(AT_FDCWD, p, flags, mode, call_openat64); }
int openat(int d, const char *p, int flags, ...) { MODE_ARG(flags) return do_open(d, p, flags, mode, call_openat); }
int openat64(int d, const char *p, int flags, ...) { MODE_ARG(flags) return do_open(d, p, flags, mode, call_openat64); }
int creat(const char *p, mode_t m) { return do_open(AT_FDCWD, p, O_CREAT | O_WRONLY | O_TRUNC, m, call_openat); }
int creat64(const char *p, mode_t m) { return do_open(AT_FDCWD, p, O_CREAT | O_WRONLY | O_TRUNC, m, call_openat64); }

static int do_rename(int od, const char *o, int nd, const char *n, unsigned int fl, int kind) {
    ensure();
    char ao[PATH_MAX], an[PATH_MAX];
    int tracked = journal_fd >= 0 && abs_path(od, o, ao) && abs_path(nd, n, an) &&
                  (under_root(ao) || under_root(an));
    if (tracked) pthread_mutex_lock(&lock);
    struct stat replaced;
    int had = tracked && fstatat(nd, n, &replaced, AT_SYMLINK_NOFOLLOW) == 0;
    int r = kind == 0 ? real_rename(o, n) : kind == 1 ? real_renameat(od, o, nd, n)
                                                     : real_renameat2(od, o, nd, n, fl);
    if (tracked) {
        int e = errno;
        struct stat st;
        if (r == 0 && fstatat(nd, n, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (had) emit(R_UNLINK, &replaced, an, NULL, 0, 0, 0, NULL, 0);
            emit(R_RENAME, &st, ao, an, 0, 0, 0, NULL, 0);
        }
        pthread_mutex_unlock(&lock);
        errno = e;
    }
    return r;
}

int rename(const char *o, const char *n) { return do_rename(AT_FDCWD, o, AT_FDCWD, n, 0, 0); }
int renameat(int od, const char *o, int nd, const char *n) { return do_rename(od, o, nd, n, 0, 1); }
int renameat2(int od, const char *o, int nd, const char *n, unsigned int f) {
    return do_rename(od, o, nd, n, f, 2);
}

static int do_mkdir(int d, const char *p, mode_t m, int at) {
    ensure();
    char abs[PATH_MAX];
    int tracked = journal_fd >= 0 && abs_path(d, p, abs) && under_root(abs);
    if (tracked) pthread_mutex_lock(&lock);
    int r = at ? real_mkdirat(d, p, m) : real_mkdir(p, m);
    if (tracked) {
        int e = errno;
        struct stat st;
        if (r == 0 && fstatat(d, p, &st, 0) == 0) emit(R_CREATE, &st, abs, NULL, 0, 0, 0, NULL, 0);
        pthread_mutex_unlock(&lock);
        errno = e;
    }
    return r;
}

int mkdir(const char *p, mode_t m) { return do_mkdir(AT_FDCWD, p, m, 0); }
int mkdirat(int d, const char *p, mode_t m) { return do_mkdir(d, p, m, 1); }

static int do_unlink(int d, const char *p, int fl, int kind) {
    ensure();
    char abs[PATH_MAX];
    int tracked = journal_fd >= 0 && abs_path(d, p, abs) && under_root(abs);
    struct stat st;
    if (tracked) {
        pthread_mutex_lock(&lock);
        tracked = fstatat(d, p, &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (!tracked) pthread_mutex_unlock(&lock);
    }
    int r = kind == 0 ? real_unlink(p) : kind == 1 ? real_unlinkat(d, p, fl) : real_rmdir(p);
    if (tracked) {
        int e = errno;
        if (r == 0) emit(R_UNLINK, &st, abs, NULL, 0, 0, 0, NULL, 0);
        pthread_mutex_unlock(&lock);
        errno = e;
    }
    return r;
}

int unlink(const char *p) { return do_unlink(AT_FDCWD, p, 0, 0); }
int unlinkat(int d, const char *p, int fl) { return do_unlink(d, p, fl, 1); }
int rmdir(const char *p) { return do_unlink(AT_FDCWD, p, 0, 2); }
