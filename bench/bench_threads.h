/*
 * bench_threads.h: finding a media worker thread of this process by name
 * ("sb-media-N", set by core/media/worker.c) and reading its CPU time,
 * for the benchmarks that run the media engine in process (bench/media,
 * bench/play). Header-only; include after the system headers it needs
 * (dirent.h, stdio.h, stdlib.h, string.h, time.h, unistd.h).
 */
#ifndef SB_BENCH_THREADS_H
#define SB_BENCH_THREADS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* The media worker's thread, found by name in /proc/self/task. */
static inline pid_t find_thread(const char *name)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    pid_t found = -1;
    struct dirent *e;
    while (found < 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof(comm), f))
            comm[strcspn(comm, "\n")] = 0;
        fclose(f);
        if (strcmp(comm, name) == 0)
            found = (pid_t)atoi(e->d_name);
    }
    closedir(d);
    return found;
}

/* utime + stime of /proc/<path>/stat, in seconds (10 ms resolution). */
static inline double stat_cpu_s(const char *path)
{
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');   /* comm may hold spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                     "%lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of thread tid of this process: its CPU-time clock (the
 * kernel's per-thread clock id, as pthread_getcpuclockid makes it), or
 * utime + stime from /proc (10 ms resolution) when that fails. */
static inline double tid_cpu_s(pid_t tid)
{
    clockid_t cid = (clockid_t)(((unsigned)~tid << 3) | 6);
    struct timespec t;
    if (clock_gettime(cid, &t) == 0)
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    return stat_cpu_s(path);
}

#endif
