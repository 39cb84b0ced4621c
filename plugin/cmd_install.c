/*
 * cmd_install.c - `newstag install-model`: put a verified model in place
 * at DEST atomically, keeping the model it replaces as DEST.previous, and
 * `--rollback` to swap DEST and DEST.previous back.
 *
 * NEW is loaded (every checksum verified) before anything at DEST changes,
 * copied into a sibling temporary directory (files and directory fsynced),
 * loaded again from there (which also builds the network.bin cache for
 * exactly those files) and then exchanged with DEST by one
 * renameat2(RENAME_EXCHANGE): a reader of DEST sees the old model or the new
 * one, never a mix. Runs on one parent directory are serialized with flock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

#define PREVIOUS_SUFFIX ".previous"

static const char *const MODEL_FILES[] = {"manifest.json", "features.tsv", "network.net"};
#define NUM_MODEL_FILES (sizeof MODEL_FILES / sizeof MODEL_FILES[0])

/* What a path holds. */
enum { SPOT_MISSING, SPOT_MODEL, SPOT_EMPTY_DIR, SPOT_OTHER, SPOT_ERROR };

/* DEST and the paths around it. */
typedef struct cli_spot {
    char dest[4096], previous[4096], parent[4096];
} cli_spot;

static void help(void)
{
    printf(
"usage: newstag install-model NEW DEST\n"
"       newstag install-model --rollback DEST\n\n"
"Installs the model directory NEW at DEST for the programs that read DEST.\n"
"NEW must load and verify completely, else nothing at DEST changes. It is\n"
"copied next to DEST (synced to disk) and swapped in with one atomic rename:\n"
"a reader of DEST always sees a whole model, the old one or the new one.\n"
"The model DEST held is kept as DEST.previous (an older DEST.previous is\n"
"removed). A DEST that does not exist yet is simply created.\n\n"
"  --rollback   swap DEST and DEST.previous back, atomically; a second\n"
"               --rollback re-applies the newer model\n\n"
"Models are named by their manifest checksum (see newstag info --json).\n"
"Exit status: 0 done; 64 usage; 66 NEW or DEST.previous missing;\n"
"73 DEST is not a model directory; 74 I/O error; 78 damaged model.\n");
}

/* ---- paths and files ---------------------------------------------------- */

static int spot_init(cli_spot *s, const char *dest)
{
    size_t len = strlen(dest);
    char *slash;

    if (len == 0 || len + sizeof PREVIOUS_SUFFIX + 16 > sizeof s->dest) {
        cli_error("bad destination path");
        return EX_USAGE;
    }
    memcpy(s->dest, dest, len + 1);
    while (len > 1 && s->dest[len - 1] == '/')
        s->dest[--len] = '\0';
    memcpy(s->previous, s->dest, len);               /* fits: checked above */
    memcpy(s->previous + len, PREVIOUS_SUFFIX, sizeof PREVIOUS_SUFFIX);
    memcpy(s->parent, s->dest, len + 1);
    slash = strrchr(s->parent, '/');
    if (slash && slash != s->parent)
        *slash = '\0';
    else
        snprintf(s->parent, sizeof s->parent, "%s", slash ? "/" : ".");
    return 0;
}

/* dir/name into out; -1 when it does not fit. */
static int join_path(char *out, size_t outlen, const char *dir, const char *name)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);

    return n >= 0 && (size_t)n < outlen ? 0 : -1;
}

static int has_manifest(const char *dir)
{
    char path[4200];
    struct stat st;

    return join_path(path, sizeof path, dir, MODEL_FILES[0]) == 0 &&
           stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int empty = 1;

    if (!d)
        return 0;
    while (empty && (e = readdir(d)))
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

static int spot_kind(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? SPOT_MISSING : SPOT_ERROR;
    if (!S_ISDIR(st.st_mode))
        return SPOT_OTHER;
    if (has_manifest(path))
        return SPOT_MODEL;
    return is_empty_dir(path) ? SPOT_EMPTY_DIR : SPOT_OTHER;
}

/* The manifest's own checksum, which names a model; "unknown" if unreadable. */
static void manifest_checksum(const char *dir, char out[65])
{
    char path[4200];
    json_t *root;
    const char *sum;

    root = join_path(path, sizeof path, dir, MODEL_FILES[0]) == 0
         ? json_load_file(path, 0, NULL) : NULL;
    sum = json_string_value(json_object_get(root, "checksum"));
    snprintf(out, 65, "%s", sum ? sum : "unknown");
    json_decref(root);
}

static int fsync_path(const char *path, int directory)
{
    int fd = open(path, (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    if (close(fd) != 0)
        rc = -1;
    return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n, len -= (size_t)n;
    }
    return 0;
}

/* Copy src to a new file dst and make it durable. Prints why on failure. */
static int copy_file(const char *src, const char *dst)
{
    char buf[65536];
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, ok = 0;
    ssize_t n;

    if (in >= 0 && (out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) >= 0) {
        while ((n = read(in, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0 && write_all(out, buf, (size_t)n) < 0)
                break;
        ok = n == 0 && fsync(out) == 0;
    }
    if (out >= 0 && close(out) != 0)
        ok = 0;
    if (!ok)
        cli_error("cannot copy %s to %s: %s", src, dst, strerror(errno));
    if (in >= 0)
        close(in);
    return ok ? 0 : -1;
}

static int remove_files_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            unlinkat(dirfd(d), e->d_name, 0) != 0)
            rc = -1;
    closedir(d);
    return rc;
}

/* Remove a model directory (flat: files only). A reader that still has it
 * open may just be writing its network.bin cache there: try again. */
static int remove_flat_dir(const char *dir)
{
    int attempt;

    for (attempt = 0; attempt < 5; attempt++)
        if (remove_files_in(dir) == 0 && rmdir(dir) == 0)
            return 0;
    return -1;
}

/* Serialize install-model runs on one parent directory. Returns the fd. */
static int lock_parent(const cli_spot *s)
{
    int fd = open(s->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        cli_error("cannot lock %s: %s", s->parent, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* ---- checks ----------------------------------------------------------------- */

static int verify_model(const char *dir, const char *what)
{
    newstag_error err;
    newstag_model *m = newstag_model_load(dir, &err);

    if (m) {
        newstag_model_free(m);
        return 0;
    }
    cli_error("refusing to use %s %s: %s", what, dir, err.text);
    return cli_exit_code(&err);
}

/* Whether DEST (or DEST.previous) may be replaced; an empty directory is
 * removed and counts as missing. Sets *kind. */
static int check_replaceable(const char *path, int *kind)
{
    *kind = spot_kind(path);
    if (*kind == SPOT_EMPTY_DIR) {
        if (rmdir(path) != 0) {
            cli_error("cannot remove the empty directory %s: %s", path, strerror(errno));
            return EX_IOERR;
        }
        *kind = SPOT_MISSING;
    }
    if (*kind == SPOT_ERROR) {
        cli_error("%s: %s", path, strerror(errno));
        return EX_IOERR;
    }
    if (*kind == SPOT_OTHER) {
        struct stat st;
        int link = lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
        cli_error("%s %s; refusing to replace it", path, link
                  ? "is a symbolic link (give the model directory itself)"
                  : "exists and is not a newstag model directory");
        return EX_CANTCREAT;
    }
    return 0;
}

/* ---- installing ------------------------------------------------------------- */

/* Copy NEW's model files into a fresh sibling directory of DEST and verify
 * the copy (which also writes its network.bin cache). */
static int stage_copy(const char *new_dir, const cli_spot *s, char *tmp, size_t tmplen)
{
    char from[4200], to[4200];
    size_t i;
    int code;

    snprintf(tmp, tmplen, "%s.tmp-XXXXXX", s->dest);
    if (!mkdtemp(tmp)) {
        cli_error("cannot create a directory next to %s: %s", s->dest, strerror(errno));
        return EX_CANTCREAT;
    }
    if (chmod(tmp, 0755) != 0)               /* a model is readable by all */
        goto io_error;
    for (i = 0; i < NUM_MODEL_FILES; i++) {
        if (join_path(from, sizeof from, new_dir, MODEL_FILES[i]) < 0 ||
            join_path(to, sizeof to, tmp, MODEL_FILES[i]) < 0) {
            errno = ENAMETOOLONG;
            goto io_error;
        }
        if (copy_file(from, to) < 0) {
            remove_flat_dir(tmp);
            return EX_IOERR;
        }
    }
    if ((code = verify_model(tmp, "the copy")) != 0) {
        remove_flat_dir(tmp);
        return code;
    }
    if (join_path(to, sizeof to, tmp, "network.bin") < 0 ||
        (access(to, F_OK) == 0 && fsync_path(to, 0) != 0) || fsync_path(tmp, 1) != 0)
        goto io_error;
    return 0;
io_error:
    cli_error("%s: %s", tmp, strerror(errno));
    remove_flat_dir(tmp);
    return EX_IOERR;
}

/* After DEST was exchanged with tmp, tmp holds the old model: keep it as
 * DEST.previous, removing an older one. */
static int keep_previous(const char *tmp, const cli_spot *s, int previous_kind)
{
    if (previous_kind == SPOT_MISSING) {
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, s->previous, RENAME_NOREPLACE) == 0)
            return 0;
    } else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, s->previous, RENAME_EXCHANGE) == 0) {
        if (remove_flat_dir(tmp) != 0)
            cli_error("note: could not remove the older model, now at %s", tmp);
        return 0;
    }
    cli_error("installed, but could not keep the old model as %s (%s); it is at %s",
              s->previous, strerror(errno), tmp);
    return EX_IOERR;
}

static int swap_in(const char *new_dir, const cli_spot *s)
{
    char tmp[4200], old_sum[65], new_sum[65];
    int dest_kind, previous_kind = SPOT_MISSING, code;

    if ((code = check_replaceable(s->dest, &dest_kind)) != 0 ||
        (dest_kind == SPOT_MODEL &&
         (code = check_replaceable(s->previous, &previous_kind)) != 0))
        return code;
    if ((code = stage_copy(new_dir, s, tmp, sizeof tmp)) != 0)
        return code;
    manifest_checksum(tmp, new_sum);
    if (dest_kind == SPOT_MISSING) {
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, s->dest, RENAME_NOREPLACE) != 0) {
            cli_error("cannot move %s into place as %s: %s", tmp, s->dest, strerror(errno));
            remove_flat_dir(tmp);
            return EX_IOERR;
        }
        fsync_path(s->parent, 1);
        printf("installed %s at %s (sha256 %s; there was no model before)\n", new_dir,
               s->dest, new_sum);
        return 0;
    }
    manifest_checksum(s->dest, old_sum);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, s->dest, RENAME_EXCHANGE) != 0) {
        cli_error("cannot swap %s into place as %s: %s", tmp, s->dest, strerror(errno));
        remove_flat_dir(tmp);
        return EX_IOERR;
    }
    code = keep_previous(tmp, s, previous_kind);
    fsync_path(s->parent, 1);
    printf("installed %s at %s (sha256 %s; was sha256 %s%s%s)\n", new_dir, s->dest,
           new_sum, old_sum, code == 0 ? ", kept as " : "", code == 0 ? s->previous : "");
    return code;
}

static int install(const char *new_dir, const char *dest)
{
    cli_spot s;
    struct stat st;
    int code, lock;

    if ((code = spot_init(&s, dest)) != 0)
        return code;
    if (stat(new_dir, &st) != 0) {
        cli_error("%s: %s", new_dir, strerror(errno));
        return EX_NOINPUT;
    }
    if (!S_ISDIR(st.st_mode)) {
        cli_error("%s is not a model directory", new_dir);
        return EX_NOINPUT;
    }
    if ((code = verify_model(new_dir, "the new model")) != 0)
        return code;
    if ((lock = lock_parent(&s)) < 0)
        return EX_IOERR;
    code = swap_in(new_dir, &s);
    close(lock);
    return code;
}

/* ---- rolling back ----------------------------------------------------------- */

static int swap_back(const cli_spot *s)
{
    char dest_sum[65], previous_sum[65];
    int kind = spot_kind(s->dest), code;

    if (kind != SPOT_MODEL) {
        cli_error("%s %s; nothing to roll back", s->dest, kind == SPOT_MISSING
                  ? "does not exist" : "is not a newstag model directory");
        return kind == SPOT_MISSING ? EX_NOINPUT : EX_CANTCREAT;
    }
    kind = spot_kind(s->previous);
    if (kind != SPOT_MODEL) {
        cli_error("%s: %s", s->previous, kind == SPOT_MISSING
                  ? "no previous model to roll back to"
                  : "not a newstag model directory; refusing to roll back");
        return kind == SPOT_MISSING ? EX_NOINPUT : EX_CANTCREAT;
    }
    if ((code = verify_model(s->previous, "the previous model")) != 0)
        return code;
    manifest_checksum(s->dest, dest_sum);
    manifest_checksum(s->previous, previous_sum);
    if (renameat2(AT_FDCWD, s->previous, AT_FDCWD, s->dest, RENAME_EXCHANGE) != 0) {
        cli_error("cannot swap %s and %s: %s", s->previous, s->dest, strerror(errno));
        return EX_IOERR;
    }
    fsync_path(s->parent, 1);
    printf("rolled back %s to sha256 %s (was sha256 %s, kept as %s)\n", s->dest,
           previous_sum, dest_sum, s->previous);
    return 0;
}

static int rollback(const char *dest)
{
    cli_spot s;
    int code, lock;

    if ((code = spot_init(&s, dest)) != 0)
        return code;
    if ((lock = lock_parent(&s)) < 0)
        return EX_IOERR;
    code = swap_back(&s);
    close(lock);
    return code;
}

int cmd_install(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rollback", no_argument, 0, 'r'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c, roll = 0, code;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': roll = 1; break;
        case 'h': help(); return 0;
        default: return EX_USAGE;
        }
    }
    if (argc - optind != (roll ? 1 : 2)) {
        cli_error(roll ? "install-model --rollback takes one argument: DEST"
                       : "install-model takes two arguments: NEW DEST (see --help)");
        return EX_USAGE;
    }
    code = roll ? rollback(argv[optind]) : install(argv[optind], argv[optind + 1]);
    if (code == 0)
        code = cli_flush_stdout();
    return code;
}
