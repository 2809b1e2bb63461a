/*
 * regex.c: the regular expressions of pattern numbers (call.h). A small
 * Thompson NFA compiled from Java-like syntax and run by a Pike VM: every
 * input byte is looked at once per NFA state, so a match costs at most
 * O(input x program) whatever the pattern. There is no backtracking, and
 * so no pattern such as (a+)+$ can stall the server.
 *
 * Supported: literals, '.', classes ([a-z], [^0-9], \d \w \s and their
 * negations, also inside classes), anchors ^ $, groups ( ) and (?: ),
 * alternation, quantifiers * + ? {n} {n,} {n,m} (a lazy '?' suffix is
 * accepted: for "is there a match" it means the same). As Restcomm
 * intends with its leading-'+' rewrite, a quantifier with nothing before
 * it ("+1650.*", "*77#") is a literal character. Refused with a reason:
 * back-references, look-around, possessive quantifiers, \b and other
 * assertions, nested classes. Bytes are matched, not code points.
 */
#include "call.h"
#include "util.h"

#include <stdint.h>
#include <string.h>

#define MAX_PATTERN 1024
#define MAX_PROG 8192
#define MAX_COUNT 1000

typedef enum { N_EMPTY, N_CHAR, N_ANY, N_CLASS, N_BOL, N_EOL, N_CAT, N_ALT, N_REP } nkind_t;

typedef struct node_s {
    nkind_t k;
    int c;                      /* N_CHAR */
    int cls;                    /* N_CLASS: index of its bitmap */
    struct node_s *a, *b;       /* N_CAT, N_ALT; N_REP uses a */
    int min, max;               /* N_REP: max -1 = unbounded */
} node_t;

typedef enum { I_CHAR, I_ANY, I_CLASS, I_SPLIT, I_JMP, I_BOL, I_EOL, I_MATCH } op_t;

typedef struct {
    uint8_t op;
    int x, y;                   /* SPLIT/JMP targets; CHAR: x = byte; CLASS: x = index */
} inst_t;

struct sb_call_regex_s {
    inst_t *prog;
    int n;
    uint8_t (*cls)[32];         /* class bitmaps */
    int ncls;
};

/* ---- parsing ------------------------------------------------------------ */

typedef struct {
    const char *p;
    size_t pos, len;
    char *err;
    size_t errlen;
    int failed;
    node_t **nodes;             /* every node, for freeing */
    int nnodes, capnodes;
    uint8_t (*cls)[32];
    int ncls, capcls;
} parser_t;

static void *fail(parser_t *ps, const char *fmt, const char *arg)
{
    if (!ps->failed) {
        char msg[200];
        snprintf(msg, sizeof msg, fmt, arg);
        snprintf(ps->err, ps->errlen, "%s near index %zu", msg, ps->pos);
        ps->failed = 1;
    }
    return NULL;
}

static node_t *mk(parser_t *ps, nkind_t k)
{
    if (ps->nnodes == ps->capnodes) {
        ps->capnodes = ps->capnodes ? ps->capnodes * 2 : 32;
        ps->nodes = sb_xrealloc(ps->nodes, (size_t)ps->capnodes * sizeof *ps->nodes);
    }
    node_t *n = SB_NEW(node_t);
    n->k = k;
    ps->nodes[ps->nnodes++] = n;
    return n;
}

static int new_class(parser_t *ps)
{
    if (ps->ncls == ps->capcls) {
        ps->capcls = ps->capcls ? ps->capcls * 2 : 8;
        ps->cls = sb_xrealloc(ps->cls, (size_t)ps->capcls * sizeof *ps->cls);
    }
    memset(ps->cls[ps->ncls], 0, 32);
    return ps->ncls++;
}

static void set_bit(uint8_t *bm, int c) { bm[c >> 3] |= (uint8_t)(1u << (c & 7)); }

static int peek(parser_t *ps) { return ps->pos < ps->len ? (unsigned char)ps->p[ps->pos] : -1; }

/* \d \w \s (and upper-case negations) into bm. Returns 1 when e is one. */
static int shorthand(int e, uint8_t *bm)
{
    uint8_t tmp[32] = {0};
    int lower = e | 0x20;
    if (lower == 'd') {
        for (int c = '0'; c <= '9'; c++) set_bit(tmp, c);
    } else if (lower == 'w') {
        for (int c = 0; c < 256; c++)
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '_')
                set_bit(tmp, c);
    } else if (lower == 's') {
        const char *sp = " \t\n\r\f\v";
        for (; *sp; sp++) set_bit(tmp, *sp);
    } else {
        return 0;
    }
    int neg = e != lower;
    for (int i = 0; i < 32; i++)
        bm[i] |= neg ? (uint8_t)~tmp[i] : tmp[i];
    return 1;
}

static int hexdig(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A single-character escape after '\' (not a shorthand class). Returns
 * the byte, or -1 after failing. */
static int escape_char(parser_t *ps, int e)
{
    switch (e) {
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'e': return 0x1b;
    case 'x': {
        int h = hexdig(peek(ps));
        int l = h >= 0 && ps->pos + 1 < ps->len ? hexdig((unsigned char)ps->p[ps->pos + 1]) : -1;
        if (h < 0 || l < 0) {
            fail(ps, "%s", "\\x needs two hex digits");
            return -1;
        }
        ps->pos += 2;
        return h * 16 + l;
    }
    }
    if (e >= '1' && e <= '9') {
        fail(ps, "%s", "back-references are not supported");
        return -1;
    }
    if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || e == '0') {
        char s[3] = {'\\', (char)e, 0};
        fail(ps, "unsupported escape %s", s);
        return -1;
    }
    return e;                   /* \. \* \+ \\ \/ ... */
}

static node_t *parse_class(parser_t *ps)
{
    int idx = new_class(ps);
    uint8_t bm[32] = {0};
    int neg = 0, first = 1;
    if (peek(ps) == '^') {
        neg = 1;
        ps->pos++;
    }
    for (;;) {
        int c = peek(ps);
        if (c < 0)
            return fail(ps, "%s", "unclosed character class");
        ps->pos++;
        if (c == ']' && !first)
            break;
        first = 0;
        if (c == '[')
            return fail(ps, "%s", "nested character classes are not supported");
        if (c == '&' && peek(ps) == '&')
            return fail(ps, "%s", "class intersection is not supported");
        if (c == '\\') {
            int e = peek(ps);
            if (e < 0)
                return fail(ps, "%s", "trailing backslash");
            ps->pos++;
            if (shorthand(e, bm))
                continue;
            c = escape_char(ps, e);
            if (c < 0)
                return NULL;
        }
        int hi = c;
        if (peek(ps) == '-' && ps->pos + 1 < ps->len && ps->p[ps->pos + 1] != ']') {
            ps->pos++;
            hi = peek(ps);
            ps->pos++;
            if (hi == '\\') {
                int e = peek(ps);
                if (e < 0)
                    return fail(ps, "%s", "trailing backslash");
                ps->pos++;
                hi = escape_char(ps, e);
                if (hi < 0)
                    return NULL;
            }
            if (hi < c)
                return fail(ps, "%s", "illegal character range");
        }
        for (int x = c; x <= hi; x++)
            set_bit(bm, x);
    }
    for (int i = 0; i < 32; i++)
        ps->cls[idx][i] = neg ? (uint8_t)~bm[i] : bm[i];
    node_t *n = mk(ps, N_CLASS);
    n->cls = idx;
    return n;
}

static node_t *parse_alt(parser_t *ps, int depth);

static node_t *parse_atom(parser_t *ps, int depth)
{
    int c = peek(ps);
    ps->pos++;
    switch (c) {
    case '(': {
        if (peek(ps) == '?') {
            if (ps->pos + 1 < ps->len && ps->p[ps->pos + 1] == ':')
                ps->pos += 2;
            else
                return fail(ps, "%s", "look-around and inline flags are not supported");
        }
        if (depth > 100)
            return fail(ps, "%s", "groups nested too deeply");
        node_t *in = parse_alt(ps, depth + 1);
        if (in == NULL)
            return NULL;
        if (peek(ps) != ')')
            return fail(ps, "%s", "unclosed group");
        ps->pos++;
        return in;
    }
    case '[':
        return parse_class(ps);
    case '.':
        return mk(ps, N_ANY);
    case '^':
        return mk(ps, N_BOL);
    case '$':
        return mk(ps, N_EOL);
    case '\\': {
        int e = peek(ps);
        if (e < 0)
            return fail(ps, "%s", "trailing backslash");
        ps->pos++;
        uint8_t bm[32] = {0};
        if (shorthand(e, bm)) {
            node_t *n = mk(ps, N_CLASS);
            n->cls = new_class(ps);
            memcpy(ps->cls[n->cls], bm, 32);
            return n;
        }
        if (strchr("bBAzZG", e)) {
            char s[3] = {'\\', (char)e, 0};
            return fail(ps, "unsupported assertion %s", s);
        }
        int x = escape_char(ps, e);
        if (x < 0)
            return NULL;
        node_t *n = mk(ps, N_CHAR);
        n->c = x;
        return n;
    }
    default: {
        /* Includes a quantifier with nothing to repeat: a literal. */
        node_t *n = mk(ps, N_CHAR);
        n->c = c;
        return n;
    }
    }
}

/* Parses {n}, {n,}, {n,m} at ps->pos (after '{'). Returns 1 on success. */
static int parse_count(parser_t *ps, int *min, int *max)
{
    long a = -1, b;
    size_t p = ps->pos;
    while (p < ps->len && ps->p[p] >= '0' && ps->p[p] <= '9') {
        a = (a < 0 ? 0 : a) * 10 + (ps->p[p] - '0');
        if (a > MAX_COUNT)
            return fail(ps, "repetition count above %s", "1000"), 0;
        p++;
    }
    if (a < 0)
        return 0;
    b = a;
    if (p < ps->len && ps->p[p] == ',') {
        p++;
        b = -1;
        if (p < ps->len && ps->p[p] >= '0' && ps->p[p] <= '9') {
            b = 0;
            while (p < ps->len && ps->p[p] >= '0' && ps->p[p] <= '9') {
                b = b * 10 + (ps->p[p] - '0');
                if (b > MAX_COUNT)
                    return fail(ps, "repetition count above %s", "1000"), 0;
                p++;
            }
            if (b < a)
                return fail(ps, "%s", "repetition range is reversed"), 0;
        }
    }
    if (p >= ps->len || ps->p[p] != '}')
        return 0;
    ps->pos = p + 1;
    *min = (int)a;
    *max = (int)b;
    return 1;
}

static node_t *parse_repeat(parser_t *ps, int depth)
{
    node_t *atom = parse_atom(ps, depth);
    if (atom == NULL)
        return NULL;
    int quantified = 0;
    for (;;) {
        int c = peek(ps), min, max;
        if (c == '*') {
            min = 0, max = -1;
        } else if (c == '+') {
            min = 1, max = -1;
        } else if (c == '?') {
            min = 0, max = 1;
        } else if (c == '{') {
            ps->pos++;
            if (!parse_count(ps, &min, &max))
                return fail(ps, "%s", "invalid repetition {n,m}");
            ps->pos--;              /* the common ++ below */
        } else {
            return atom;
        }
        if (atom->k == N_BOL || atom->k == N_EOL)
            return atom;            /* "^*77#": the quantifier is a literal */
        if (quantified)
            return fail(ps, "%s", "dangling quantifier");
        ps->pos++;
        if (peek(ps) == '?')
            ps->pos++;              /* lazy: same answer for find() */
        else if (peek(ps) == '+')
            return fail(ps, "%s", "possessive quantifiers are not supported");
        node_t *r = mk(ps, N_REP);
        r->a = atom;
        r->min = min;
        r->max = max;
        atom = r;
        quantified = 1;
    }
}

static node_t *parse_cat(parser_t *ps, int depth)
{
    node_t *left = NULL;
    while (!ps->failed) {
        int c = peek(ps);
        if (c < 0 || c == '|' || c == ')')
            break;
        node_t *n = parse_repeat(ps, depth);
        if (n == NULL)
            return NULL;
        if (left == NULL) {
            left = n;
        } else {
            node_t *cat = mk(ps, N_CAT);
            cat->a = left;
            cat->b = n;
            left = cat;
        }
    }
    if (ps->failed)
        return NULL;
    return left ? left : mk(ps, N_EMPTY);
}

static node_t *parse_alt(parser_t *ps, int depth)
{
    node_t *left = parse_cat(ps, depth);
    while (left && peek(ps) == '|') {
        ps->pos++;
        node_t *right = parse_cat(ps, depth);
        if (right == NULL)
            return NULL;
        node_t *alt = mk(ps, N_ALT);
        alt->a = left;
        alt->b = right;
        left = alt;
    }
    return left;
}

/* ---- code generation ---------------------------------------------------- */

typedef struct {
    inst_t *prog;
    int n, cap;
    int overflow;
} gen_t;

static int emit(gen_t *g, op_t op, int x, int y)
{
    if (g->n >= MAX_PROG) {
        g->overflow = 1;
        return g->n;
    }
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->prog = sb_xrealloc(g->prog, (size_t)g->cap * sizeof *g->prog);
    }
    g->prog[g->n] = (inst_t){(uint8_t)op, x, y};
    return g->n++;
}

static void gen(gen_t *g, const node_t *n)
{
    if (g->overflow)
        return;
    switch (n->k) {
    case N_EMPTY:
        break;
    case N_CHAR:
        emit(g, I_CHAR, n->c, 0);
        break;
    case N_ANY:
        emit(g, I_ANY, 0, 0);
        break;
    case N_CLASS:
        emit(g, I_CLASS, n->cls, 0);
        break;
    case N_BOL:
        emit(g, I_BOL, 0, 0);
        break;
    case N_EOL:
        emit(g, I_EOL, 0, 0);
        break;
    case N_CAT:
        gen(g, n->a);
        gen(g, n->b);
        break;
    case N_ALT: {
        int split = emit(g, I_SPLIT, 0, 0);
        g->prog[split].x = g->n;
        gen(g, n->a);
        int jmp = emit(g, I_JMP, 0, 0);
        if (g->overflow)
            return;
        g->prog[split].y = g->n;
        gen(g, n->b);
        g->prog[jmp].x = g->n;
        break;
    }
    case N_REP: {
        for (int i = 0; i < n->min && !g->overflow; i++)
            gen(g, n->a);
        if (n->max < 0) {
            int split = emit(g, I_SPLIT, 0, 0);
            if (g->overflow)
                return;
            g->prog[split].x = g->n;
            gen(g, n->a);
            emit(g, I_JMP, split, 0);
            if (g->overflow)
                return;
            g->prog[split].y = g->n;
        } else {
            /* Optional copies, each inside the previous: x(x(x)?)? */
            int *splits = sb_xmalloc((size_t)(n->max - n->min + 1) * sizeof *splits);
            int ns = 0;
            for (int i = n->min; i < n->max && !g->overflow; i++) {
                splits[ns++] = emit(g, I_SPLIT, 0, 0);
                if (g->overflow)
                    break;
                g->prog[splits[ns - 1]].x = g->n;
                gen(g, n->a);
            }
            for (int i = 0; i < ns && !g->overflow; i++)
                g->prog[splits[i]].y = g->n;
            free(splits);
        }
        break;
    }
    }
}

int sb_call_regex_compile(const char *pattern, sb_call_regex_t **out, char *err,
                          size_t errlen)
{
    char dummy[8];
    if (err == NULL) {
        err = dummy;
        errlen = sizeof dummy;
    }
    *out = NULL;
    size_t len = strlen(pattern);
    if (len > MAX_PATTERN) {
        snprintf(err, errlen, "pattern longer than %d bytes", MAX_PATTERN);
        return SB_EINVAL;
    }
    parser_t ps = {.p = pattern, .len = len, .err = err, .errlen = errlen};
    node_t *root = parse_alt(&ps, 0);
    if (root && !ps.failed && ps.pos < ps.len)
        fail(&ps, "%s", "unmatched )");
    int rc = 0;
    sb_call_regex_t *re = NULL;
    if (root == NULL || ps.failed) {
        rc = SB_EINVAL;
    } else {
        gen_t g = {0};
        gen(&g, root);
        emit(&g, I_MATCH, 0, 0);
        if (g.overflow) {
            snprintf(err, errlen, "pattern too complex (more than %d states)", MAX_PROG);
            free(g.prog);
            rc = SB_EINVAL;
        } else {
            re = SB_NEW(sb_call_regex_t);
            re->prog = g.prog;
            re->n = g.n;
            re->cls = ps.cls;
            re->ncls = ps.ncls;
            ps.cls = NULL;
        }
    }
    for (int i = 0; i < ps.nnodes; i++)
        free(ps.nodes[i]);
    free(ps.nodes);
    free(ps.cls);
    *out = re;
    return rc;
}

void sb_call_regex_free(sb_call_regex_t *re)
{
    if (re == NULL)
        return;
    free(re->prog);
    free(re->cls);
    free(re);
}

/* ---- the Pike VM -------------------------------------------------------- */

typedef struct {
    const sb_call_regex_t *re;
    int *mark;                  /* per pc: position + 1 when last added */
    int *stack;
    size_t len;
    int matched;
} vm_t;

/* Adds pc and its epsilon closure at position pos to list. */
static void add_thread(vm_t *vm, int *list, int *count, int pc, size_t pos)
{
    int sp = 0;
    vm->stack[sp++] = pc;
    while (sp > 0) {
        int p = vm->stack[--sp];
        if (vm->mark[p] == (int)pos + 1)
            continue;
        vm->mark[p] = (int)pos + 1;
        const inst_t *in = &vm->re->prog[p];
        switch (in->op) {
        case I_JMP:
            vm->stack[sp++] = in->x;
            break;
        case I_SPLIT:
            vm->stack[sp++] = in->y;
            vm->stack[sp++] = in->x;
            break;
        case I_BOL:
            if (pos == 0)
                vm->stack[sp++] = p + 1;
            break;
        case I_EOL:
            if (pos == vm->len)
                vm->stack[sp++] = p + 1;
            break;
        case I_MATCH:
            vm->matched = 1;
            break;
        default:
            list[(*count)++] = p;
        }
    }
}

int sb_call_regex_find(const sb_call_regex_t *re, const char *s)
{
    size_t len = strlen(s);
    if (len >= (size_t)INT32_MAX - 1)
        return 0;
    int n = re->n;
    /* mark: n; stack: each state is expanded once per closure and pushes
     * at most two successors, so 2n + 1; then the two thread lists. */
    int *mem = sb_xcalloc((size_t)n * 5 + 2, sizeof *mem);
    vm_t vm = {.re = re, .mark = mem, .stack = mem + n, .len = len};
    int *clist = mem + 3 * n + 2, *nlist = mem + 4 * n + 2;
    int cn = 0, nn;
    for (size_t i = 0;; i++) {
        /* Unanchored search (find): a new thread starts at every position. */
        add_thread(&vm, clist, &cn, 0, i);
        if (vm.matched || i == len)
            break;
        unsigned char c = (unsigned char)s[i];
        nn = 0;
        for (int k = 0; k < cn && !vm.matched; k++) {
            const inst_t *in = &re->prog[clist[k]];
            int ok = (in->op == I_CHAR && in->x == c) || in->op == I_ANY ||
                     (in->op == I_CLASS && (re->cls[in->x][c >> 3] >> (c & 7)) & 1);
            if (ok)
                add_thread(&vm, nlist, &nn, clist[k] + 1, i + 1);
        }
        if (vm.matched)
            break;
        int *t = clist;
        clist = nlist;
        nlist = t;
        cn = nn;
    }
    free(mem);
    return vm.matched;
}
