/*
 * loadgen.c: a bounded HTTP/1.1 load generator for loopback benchmarks
 * (bench/rest/run.sh). Opens C keep-alive connections to 127.0.0.1:PORT,
 * each sending one GET at a time for D seconds, and prints one line:
 *
 *   requests=N rps=R p50_us=A p99_us=B errors=E non2xx=F
 *
 * Deliberately small: one thread, epoll, no pipelining, Content-Length
 * bodies only (what our server sends). Not part of the test suite.
 *
 *   loadgen -p PORT [-c CONNS] [-d SECONDS] [-a BASIC_CREDENTIALS] PATH
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define BUCKETS 100000          /* 10 us buckets up to 1 s */

typedef struct {
    int fd;
    char in[1 << 16];
    size_t len;
    uint64_t sent_at;
} conn_t;

static char request[4096];
static size_t request_len;
static uint64_t hist[BUCKETS + 1];
static uint64_t done_count, errors, non2xx;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void b64(const char *in, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n) v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

static int open_conn(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void send_req(conn_t *c)
{
    size_t off = 0;
    while (off < request_len) {
        ssize_t n = write(c->fd, request + off, request_len - off);
        if (n < 0 && errno == EAGAIN)
            continue;               /* tiny requests: spin briefly */
        if (n < 0) {
            perror("write");
            exit(1);
        }
        off += (size_t)n;
    }
    c->sent_at = now_us();
}

/* Returns the length of one complete response at the start of c->in, or
 * 0 when more bytes are needed. */
static size_t complete(conn_t *c, int *status)
{
    char *end = memmem(c->in, c->len, "\r\n\r\n", 4);
    if (end == NULL)
        return 0;
    size_t head = (size_t)(end - c->in) + 4;
    *status = atoi(c->in + 9);
    size_t body = 0;
    char *cl = memmem(c->in, head, "Content-Length:", 15);
    if (cl)
        body = (size_t)strtoul(cl + 15, NULL, 10);
    return c->len >= head + body ? head + body : 0;
}

int main(int argc, char **argv)
{
    int port = 0, conns = 4, seconds = 5, opt;
    const char *cred = NULL;
    while ((opt = getopt(argc, argv, "p:c:d:a:")) != -1) {
        if (opt == 'p') port = atoi(optarg);
        else if (opt == 'c') conns = atoi(optarg);
        else if (opt == 'd') seconds = atoi(optarg);
        else if (opt == 'a') cred = optarg;
    }
    if (optind >= argc || port <= 0 || conns < 1 || conns > MAX_CONNS) {
        fprintf(stderr, "usage: loadgen -p PORT [-c CONNS] [-d SECONDS] "
                        "[-a USER:SECRET] PATH\n");
        return 2;
    }
    char auth[1024] = "";
    if (cred) {
        char enc[700];
        b64(cred, enc);
        snprintf(auth, sizeof auth, "Authorization: Basic %s\r\n", enc);
    }
    request_len = (size_t)snprintf(request, sizeof request,
                                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n",
                                   argv[optind], auth);

    static conn_t cs[MAX_CONNS];
    int ep = epoll_create1(0);
    for (int i = 0; i < conns; i++) {
        cs[i].fd = open_conn(port);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
        send_req(&cs[i]);
    }
    uint64_t start = now_us(), stop = start + (uint64_t)seconds * 1000000u;
    struct epoll_event evs[MAX_CONNS];
    while (now_us() < stop) {
        int n = epoll_wait(ep, evs, MAX_CONNS, 100);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            ssize_t r = read(c->fd, c->in + c->len, sizeof c->in - c->len);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                fprintf(stderr, "connection closed by the server\n");
                return 1;
            }
            c->len += (size_t)r;
            int status = 0;
            size_t used = complete(c, &status);
            if (used == 0) {
                if (c->len == sizeof c->in) {
                    fprintf(stderr, "response larger than %zu bytes\n", sizeof c->in);
                    return 1;
                }
                continue;
            }
            uint64_t lat = now_us() - c->sent_at;
            hist[lat / 10 < BUCKETS ? lat / 10 : BUCKETS]++;
            done_count++;
            if (status < 200 || status > 299)
                non2xx++;
            memmove(c->in, c->in + used, c->len - used);
            c->len -= used;
            send_req(c);
        }
    }
    double secs = (double)(now_us() - start) / 1e6;
    uint64_t p50 = 0, p99 = 0, acc = 0;
    for (int b = 0; b <= BUCKETS; b++) {
        acc += hist[b];
        if (!p50 && acc * 2 >= done_count)
            p50 = (uint64_t)b * 10;
        if (!p99 && acc * 100 >= done_count * 99) {
            p99 = (uint64_t)b * 10;
            break;
        }
    }
    printf("requests=%llu rps=%.0f p50_us=%llu p99_us=%llu errors=%llu non2xx=%llu\n",
           (unsigned long long)done_count, (double)done_count / secs,
           (unsigned long long)p50, (unsigned long long)p99,
           (unsigned long long)errors, (unsigned long long)non2xx);
    return 0;
}
