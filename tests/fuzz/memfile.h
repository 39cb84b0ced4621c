/* memfile.h - for harnesses of code that reads files: the fuzzer's input
 * as an in-memory file, reachable by a path. */
#ifndef NEWSTAG_FUZZ_MEMFILE_H
#define NEWSTAG_FUZZ_MEMFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Returns the file descriptor (close it when done) with its path in
 * `path`, or -1 when no in-memory file can be made. */
static int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
    int fd = memfd_create("fuzz", 0);
    size_t done = 0;

    if (fd < 0)
        return -1;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0)
            abort();
        done += (size_t)w;
    }
    snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
