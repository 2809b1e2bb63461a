/*
 * rcml.c: RCML text -> verb tree with libxml2, under limits.
 *
 * Entry points: sb_rcml_parse, sb_rcml_free, sb_rcml_attr.
 *
 * Untrusted input is handled in this order: the size cap before anything
 * else; a byte scan that refuses "<!ENTITY" (so an entity bomb is never
 * expanded, whatever the libxml2 version's own amplification checks); a
 * linear pre-scan (prescan) that reads the text in the code units libxml2
 * will decode, refuses encodings it cannot read that way, and bounds the
 * elements, the nesting and the attributes per element and per document
 * before libxml2 does any work (its duplicate-attribute check and its
 * property lists are quadratic in the attributes of one element: 60,000
 * attributes took 81 s); then a parse with no network, no DTD loading and
 * no entity substitution, whose SAX entity-declaration, attribute-list-
 * declaration and external-subset callbacks are replaced so that a
 * declaration hidden from the scan still stops the parser (declared
 * attribute defaults would be added to elements unseen by the pre-scan)
 * and no external subset is ever read. The xmlDoc is copied into plain
 * structs in one arena and freed before return.
 *
 * Deliberately left out: schema validation of verbs and attributes (the
 * Lua interpreter checks attributes against each verb plugin's spec).
 */
#include "rcml.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include "util.h"

/* ------------------------------------------------------------------------ */
/* Arena: every node, array and string of a document                        */
/* ------------------------------------------------------------------------ */

typedef struct block_s {
    struct block_s *next;
    size_t used;
    size_t cap;
    max_align_t data[];
} block_t;

struct sb_rcml_arena_s {
    block_t *head;
};

#define BLOCK_MIN 8192

static void *arena_alloc(struct sb_rcml_arena_s *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    block_t *b = a->head;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > BLOCK_MIN ? n : BLOCK_MIN;
        b = sb_xmalloc(sizeof(block_t) + cap);
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

static const char *arena_strndup(struct sb_rcml_arena_s *a, const char *s,
                                 size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void arena_free(struct sb_rcml_arena_s *a)
{
    block_t *b = a->head;
    while (b) {
        block_t *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

/* ------------------------------------------------------------------------ */
/* Parse state shared with the SAX overrides                                */
/* ------------------------------------------------------------------------ */

typedef struct parse_s {
    int entity_decl;            /* an entity declaration was seen */
    int attlist_decl;           /* an attribute-list declaration was seen */
    char xml_err[160];          /* last libxml2 error, "line N: ..." */
    struct sb_rcml_arena_s arena;
    sb_rcml_limits_t lim;
    size_t nodes;
    char msg[160];              /* SB_ELIMIT reason */
} parse_t;

static void on_entity_decl(void *ctx, const xmlChar *name, int type,
                           const xmlChar *public_id, const xmlChar *system_id,
                           xmlChar *content)
{
    xmlParserCtxtPtr ctxt = ctx;
    parse_t *ps = ctxt->_private;
    ps->entity_decl = 1;
    xmlStopParser(ctxt);
}

/* Attribute defaults declared in the internal subset would be added to
 * every element of that name, unseen by the pre-scan: refused like
 * entities (RCML has no use for them). */
static void on_attribute_decl(void *ctx, const xmlChar *elem,
                              const xmlChar *fullname, int type, int def,
                              const xmlChar *default_value,
                              xmlEnumerationPtr tree)
{
    xmlParserCtxtPtr ctxt = ctx;
    parse_t *ps = ctxt->_private;
    ps->attlist_decl = 1;
    xmlFreeEnumeration(tree);
    xmlStopParser(ctxt);
}

/* Never read an external subset, whatever the options say. */
static void on_external_subset(void *ctx, const xmlChar *name,
                               const xmlChar *external_id,
                               const xmlChar *system_id)
{
}

static void last_error(xmlParserCtxtPtr ctxt, parse_t *ps)
{
    xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
    if (e == NULL || e->level < XML_ERR_ERROR)
        return;
    const char *m = e->message ? e->message : "parse error";
    size_t n = strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    snprintf(ps->xml_err, sizeof ps->xml_err, "line %d: %.*s", e->line,
             (int)n, m);
}

static int contains(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (len < n)
        return 0;
    for (size_t i = 0; i + n <= len; i++) {
        if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
            return 1;
    }
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ------------------------------------------------------------------------ */
/* Pre-scan: bounds before libxml2 does any work                            */
/* ------------------------------------------------------------------------ */

/* The text as libxml2 will decode it: code units of w bytes (1 or 2),
 * big-endian when be. Markup characters are ASCII in every encoding the
 * scan accepts, so they are found by value in either width. */
typedef struct units_s {
    const unsigned char *p;
    size_t n;                   /* units */
    int w, be;
} units_t;

static uint32_t unit_at(const units_t *u, size_t i)
{
    if (i >= u->n)
        return 0;
    if (u->w == 1)
        return u->p[i];
    const unsigned char *q = u->p + 2 * i;
    return u->be ? (uint32_t)q[0] << 8 | q[1] : (uint32_t)q[1] << 8 | q[0];
}

static int units_match(const units_t *u, size_t i, const char *lit)
{
    for (; *lit; lit++, i++) {
        if (unit_at(u, i) != (unsigned char)*lit)
            return 0;
    }
    return 1;
}

/* Index just past the first "end" at or after i, or u->n. */
static size_t units_skip_past(const units_t *u, size_t i, const char *end)
{
    uint32_t first = (unsigned char)end[0];
    for (; i < u->n; i++) {
        if (unit_at(u, i) == first && units_match(u, i, end))
            return i + strlen(end);
    }
    return u->n;
}

/* Index just past a quoted string starting at i (the quote), or u->n. */
static size_t units_skip_quoted(const units_t *u, size_t i)
{
    uint32_t q = unit_at(u, i);
    for (i++; i < u->n; i++) {
        if (unit_at(u, i) == q)
            return i + 1;
    }
    return u->n;
}

/* Index just past "<!DOCTYPE ...>" (or another "<!" declaration), internal
 * subset included: quoted strings, comments and processing instructions
 * may hold any markup character. */
static size_t units_skip_decl(const units_t *u, size_t i)
{
    int subset = 0;
    i += 2;
    while (i < u->n) {
        uint32_t c = unit_at(u, i);
        if (c == '"' || c == '\'') {
            i = units_skip_quoted(u, i);
        } else if (subset && c == '<' && units_match(u, i, "<!--")) {
            i = units_skip_past(u, i + 4, "-->");
        } else if (subset && c == '<' && units_match(u, i, "<?")) {
            i = units_skip_past(u, i + 2, "?>");
        } else if (c == '[' && !subset) {
            subset = 1;
            i++;
        } else if (c == ']' && subset) {
            subset = 0;
            i++;
        } else if (c == '>' && !subset) {
            return i + 1;
        } else {
            i++;
        }
    }
    return u->n;
}

/* Encodings whose every byte below 0x80 is ASCII and which libxml2 reads
 * one byte per character or as UTF-8: markup is found by byte value. A
 * stateful or 7-bit-shifted encoding (UTF-7, ISO-2022-*, EBCDIC) could
 * spell '<', '=' or '"' otherwise, so anything else is refused. */
static int one_byte_encoding(const char *e)
{
    static const char *const names[] = {
        "utf-8", "utf8", "us-ascii", "ascii", "latin1", "latin-1",
    };
    for (size_t i = 0; i < SB_COUNTOF(names); i++) {
        if (strcasecmp(e, names[i]) == 0)
            return 1;
    }
    return strncasecmp(e, "iso-8859-", 9) == 0 ||
           strncasecmp(e, "windows-125", 11) == 0 ||
           strncasecmp(e, "cp125", 5) == 0;
}

static int two_byte_encoding(const char *e, int be)
{
    return strcasecmp(e, "utf-16") == 0 || strcasecmp(e, "utf16") == 0 ||
           strcasecmp(e, be ? "utf-16be" : "utf-16le") == 0;
}

/* Reads the encoding named in the XML declaration at the start of u into
 * out (empty when none). libxml2 switches to that encoding mid-document,
 * whatever it detected from the first bytes. */
static void declared_encoding(const units_t *u, size_t start, char *out,
                              size_t cap)
{
    char head[256];
    size_t n = 0;
    out[0] = '\0';
    if (!units_match(u, start, "<?xml"))
        return;
    for (size_t i = start; i < u->n && n + 1 < sizeof head; i++) {
        uint32_t c = unit_at(u, i);
        if (c == '>')
            break;
        head[n++] = c < 0x80 && c != 0 ? (char)c : '?';
    }
    head[n] = '\0';
    const char *e = strstr(head, "encoding");
    if (e == NULL)
        return;
    e += 8;
    while (is_space(*e))
        e++;
    if (*e++ != '=')
        return;
    while (is_space(*e))
        e++;
    char q = *e++;
    if (q != '"' && q != '\'')
        return;
    size_t k = 0;
    while (*e && *e != q && k + 1 < cap)
        out[k++] = *e++;
    out[k] = '\0';
    if (k == 0) {
        out[0] = '?';              /* encoding="" : not one we know */
        out[1] = '\0';
    }
}

static int prescan(parse_t *ps, const char *xml, size_t len)
{
    const unsigned char *b = (const unsigned char *)xml;
    units_t u = {.p = b, .n = len, .w = 1, .be = 0};
    size_t i = 0;

    /* The first bytes, as libxml2 reads them (xmlDetectCharEncoding). */
    if (len >= 4 && ((b[0] == 0 && b[1] == 0) || (b[2] == 0 && b[3] == 0) ||
                     (b[0] == 0x4C && b[1] == 0x6F && b[2] == 0xA7))) {
        snprintf(ps->msg, sizeof ps->msg,
                 "unsupported encoding (UCS-4 or EBCDIC)");
        return SB_ESYNTAX;
    }
    if (len >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) ||
                     (b[0] == 0 && b[1] == '<'))) {
        u.w = 2;
        u.be = 1;
    } else if (len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) ||
                            (len >= 4 && b[0] == '<' && b[1] == 0 &&
                             b[2] == '?' && b[3] == 0))) {
        u.w = 2;
    }
    if (u.w == 2) {
        u.n = len / 2;
        if (b[0] == 0xFE || b[0] == 0xFF)
            i = 1;
    } else if (len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
        i = 3;
    }
    char enc[64];
    declared_encoding(&u, i, enc, sizeof enc);
    if (enc[0] && !(u.w == 1 ? one_byte_encoding(enc)
                             : two_byte_encoding(enc, u.be))) {
        snprintf(ps->msg, sizeof ps->msg, "unsupported encoding \"%s\"", enc);
        return SB_ESYNTAX;
    }

    size_t elements = 0, total = 0;
    int depth = 0;
    while (i < u.n) {
        if (unit_at(&u, i) != '<') {
            i++;
            continue;
        }
        uint32_t c = unit_at(&u, i + 1);
        if (c == '!') {
            if (units_match(&u, i, "<!--"))
                i = units_skip_past(&u, i + 4, "-->");
            else if (units_match(&u, i, "<![CDATA["))
                i = units_skip_past(&u, i + 9, "]]>");
            else
                i = units_skip_decl(&u, i);
            continue;
        }
        if (c == '?') {
            i = units_skip_past(&u, i + 2, "?>");
            continue;
        }
        if (c == '/') {
            depth--;
            i += 2;
            continue;
        }
        /* A start tag. Every attribute has one '=' outside quotes, so
         * counting those bounds the attributes from above; a tag that
         * breaks the grammar here stops libxml2 at the same place. */
        if (++elements > ps->lim.max_nodes) {
            snprintf(ps->msg, sizeof ps->msg, "more than %zu elements",
                     ps->lim.max_nodes);
            return SB_ELIMIT;
        }
        size_t attrs = 0;
        int empty = 0;
        for (i++; i < u.n; i++) {
            c = unit_at(&u, i);
            if (c == '"' || c == '\'') {
                i = units_skip_quoted(&u, i) - 1;
            } else if (c == '=') {
                attrs++;
            } else if (c == '>' || c == '<') {
                empty = unit_at(&u, i - 1) == '/';
                break;
            }
        }
        if (attrs > ps->lim.max_attrs) {
            snprintf(ps->msg, sizeof ps->msg,
                     "element %zu has more than %zu attributes", elements,
                     ps->lim.max_attrs);
            return SB_ELIMIT;
        }
        total += attrs;
        if (total > ps->lim.max_total_attrs) {
            snprintf(ps->msg, sizeof ps->msg,
                     "more than %zu attributes in the document",
                     ps->lim.max_total_attrs);
            return SB_ELIMIT;
        }
        if (!empty && ++depth > ps->lim.max_depth) {
            snprintf(ps->msg, sizeof ps->msg,
                     "nesting deeper than %d elements", ps->lim.max_depth);
            return SB_ELIMIT;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* xmlNode -> sb_rcml_node_t                                                */
/* ------------------------------------------------------------------------ */

static int convert(parse_t *ps, xmlNodePtr x, sb_rcml_node_t *out, int depth)
{
    struct sb_rcml_arena_s *a = &ps->arena;

    if (depth > ps->lim.max_depth) {
        snprintf(ps->msg, sizeof ps->msg,
                 "line %ld: nesting deeper than %d elements", xmlGetLineNo(x),
                 ps->lim.max_depth);
        return SB_ELIMIT;
    }
    if (++ps->nodes > ps->lim.max_nodes) {
        snprintf(ps->msg, sizeof ps->msg, "more than %zu elements",
                 ps->lim.max_nodes);
        return SB_ELIMIT;
    }

    out->name = arena_strndup(a, (const char *)x->name,
                              strlen((const char *)x->name));
    long line = xmlGetLineNo(x);
    out->line = line > 0 && line < INT32_MAX ? (int)line : 0;

    /* Attributes. */
    size_t na = 0;
    for (xmlAttrPtr at = x->properties; at; at = at->next)
        na++;
    sb_rcml_attr_t *attrs = na ? arena_alloc(a, na * sizeof *attrs) : NULL;
    size_t i = 0;
    for (xmlAttrPtr at = x->properties; at; at = at->next, i++) {
        xmlChar *v = xmlNodeListGetString(x->doc, at->children, 1);
        attrs[i].name = arena_strndup(a, (const char *)at->name,
                                      strlen((const char *)at->name));
        attrs[i].value = arena_strndup(a, v ? (const char *)v : "",
                                       v ? strlen((const char *)v) : 0);
        xmlFree(v);
    }
    out->attrs = attrs;
    out->attr_count = na;

    /* Text: direct text and CDATA children, joined, then trimmed. */
    size_t tlen = 0, nc = 0;
    for (xmlNodePtr c = x->children; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
            c->content)
            tlen += strlen((const char *)c->content);
        else if (c->type == XML_ELEMENT_NODE)
            nc++;
    }
    char *text = arena_alloc(a, tlen + 1);
    size_t pos = 0;
    for (xmlNodePtr c = x->children; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
            c->content) {
            size_t n = strlen((const char *)c->content);
            memcpy(text + pos, c->content, n);
            pos += n;
        }
    }
    text[pos] = '\0';
    char *start = text;
    while (*start && is_space(*start))
        start++;
    size_t slen = strlen(start);
    while (slen > 0 && is_space(start[slen - 1]))
        start[--slen] = '\0';
    out->text = start;

    /* Element children. */
    sb_rcml_node_t *kids = nc ? arena_alloc(a, nc * sizeof *kids) : NULL;
    if (kids)
        memset(kids, 0, nc * sizeof *kids);
    out->children = kids;
    out->child_count = nc;
    i = 0;
    for (xmlNodePtr c = x->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        int rc = convert(ps, c, &kids[i++], depth + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int sb_rcml_parse(const char *xml, size_t len, const sb_rcml_limits_t *limits,
                  sb_rcml_doc_t **out, char *err, size_t errlen)
{
    parse_t ps;
    memset(&ps, 0, sizeof ps);
    ps.lim.max_bytes = limits && limits->max_bytes ? limits->max_bytes
                                                   : SB_RCML_DEFAULT_MAX_BYTES;
    ps.lim.max_depth = limits && limits->max_depth > 0
                           ? limits->max_depth : SB_RCML_DEFAULT_MAX_DEPTH;
    ps.lim.max_nodes = limits && limits->max_nodes ? limits->max_nodes
                                                   : SB_RCML_DEFAULT_MAX_NODES;
    ps.lim.max_attrs = limits && limits->max_attrs ? limits->max_attrs
                                                   : SB_RCML_DEFAULT_MAX_ATTRS;
    ps.lim.max_total_attrs = limits && limits->max_total_attrs
                                 ? limits->max_total_attrs
                                 : SB_RCML_DEFAULT_MAX_TOTAL_ATTRS;
    if (err && errlen)
        err[0] = '\0';

    if (len > ps.lim.max_bytes || len > INT32_MAX) {
        set_err(err, errlen, "document of %zu bytes is over the %zu byte limit",
                len, ps.lim.max_bytes);
        return SB_ETOOBIG;
    }
    if (xml == NULL || len == 0) {
        set_err(err, errlen, "empty document");
        return SB_ESYNTAX;
    }
    if (contains(xml, len, "<!ENTITY")) {
        set_err(err, errlen, "entity declarations are not allowed");
        return SB_EPERM;
    }
    int src = prescan(&ps, xml, len);
    if (src < 0) {
        set_err(err, errlen, "%s", ps.msg);
        return src;
    }

    xmlInitParser();
    xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(xml, (int)len);
    if (ctxt == NULL) {
        set_err(err, errlen, "cannot create XML parser");
        return SB_ENOMEM;
    }
    /* No XML_PARSE_NOENT (no substitution), no XML_PARSE_DTDLOAD, no
     * XML_PARSE_HUGE (keeps libxml2's own depth and text-size limits). */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    ctxt->_private = &ps;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->attributeDecl = on_attribute_decl;
    ctxt->sax->externalSubset = on_external_subset;
    ctxt->sax->error = NULL;
    ctxt->sax->warning = NULL;
    ctxt->vctxt.error = NULL;
    ctxt->vctxt.warning = NULL;

    int rc = 0;
    int prc = xmlParseDocument(ctxt);
    xmlDocPtr doc = ctxt->myDoc;
    ctxt->myDoc = NULL;
    if (ps.entity_decl) {
        set_err(err, errlen, "entity declarations are not allowed");
        rc = SB_EPERM;
        goto done;
    }
    if (ps.attlist_decl) {
        set_err(err, errlen, "attribute-list declarations are not allowed");
        rc = SB_EPERM;
        goto done;
    }
    if (prc != 0 || !ctxt->wellFormed || doc == NULL) {
        last_error(ctxt, &ps);
        set_err(err, errlen, "not well-formed XML: %s",
                ps.xml_err[0] ? ps.xml_err : "parse error");
        rc = SB_ESYNTAX;
        goto done;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root == NULL) {
        set_err(err, errlen, "no root element");
        rc = SB_ESYNTAX;
        goto done;
    }
    if (strcmp((const char *)root->name, "Response") != 0) {
        set_err(err, errlen, "root element is <%s>, expected <Response>",
                (const char *)root->name);
        rc = SB_ERCML;
        goto done;
    }

    sb_rcml_doc_t *d = SB_NEW(sb_rcml_doc_t);
    rc = convert(&ps, root, &d->root, 1);
    if (rc < 0) {
        set_err(err, errlen, "%s", ps.msg);
        free(d);
        goto done;
    }
    d->arena_ = sb_xmalloc(sizeof *d->arena_);
    *d->arena_ = ps.arena;
    ps.arena.head = NULL;
    *out = d;

done:
    arena_free(&ps.arena);
    if (doc)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

void sb_rcml_free(sb_rcml_doc_t *doc)
{
    if (doc == NULL)
        return;
    if (doc->arena_) {
        arena_free(doc->arena_);
        free(doc->arena_);
    }
    free(doc);
}

const char *sb_rcml_attr(const sb_rcml_node_t *node, const char *name)
{
    for (size_t i = 0; i < node->attr_count; i++) {
        if (strcmp(node->attrs[i].name, name) == 0)
            return node->attrs[i].value;
    }
    return NULL;
}
