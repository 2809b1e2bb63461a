/*
 * fs.c: file-system helpers (fs.h).
 */
#include "fs.h"
#include "mem.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int sb_mkdir_p(const char *dir, unsigned mode)
{
    char *p = sb_xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char saved = *s;
            *s = '\0';
            if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
                rc = -1;
                break;
            }
            *s = saved;
            if (!saved)
                break;
        }
    }
    int err = errno;
    free(p);
    if (rc != 0) {
        errno = err;
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return access(dir, W_OK | X_OK) == 0 ? 0 : -1;
}
