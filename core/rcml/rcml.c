/*
 * rcml.c: RCML text -> verb tree with libxml2, under limits.
 *
 * Entry points: sb_rcml_parse, sb_rcml_free, sb_rcml_attr.
 *
 * Untrusted input is handled in this order: the size cap before anything
 * else; a byte scan that refuses "<!ENTITY" (so an entity bomb is never
 * expanded, whatever the libxml2 version's own amplification checks); then
 * a parse with no network, no DTD loading and no entity substitution, whose
 * SAX entity-declaration and external-subset callbacks are replaced so that
 * a declaration hidden from the scan (another encoding) still stops the
 * parser and no external subset is ever read. The xmlDoc is copied into
 * plain structs in one arena and freed before return.
 *
 * Deliberately left out: schema validation of verbs and attributes (the
 * Lua interpreter checks attributes against each verb plugin's spec).
 */
#include "rcml.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
