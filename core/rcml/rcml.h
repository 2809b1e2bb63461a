/*
 * rcml.h: the rcml module's public header. RCML text -> a verb tree of
 * plain C structs (libxml2 does the parsing; no libxml type leaves this
 * module), and the standard voice-request parameters Restcomm sends with
 * every fetch of an application URL.
 *
 * A pure function of its input: no I/O, no network, no Lua. The Lua side
 * (core/lua) turns a tree into a table; lua/switchboard/rcml.lua runs it.
 */
#ifndef SB_RCML_H
#define SB_RCML_H

#include <stddef.h>

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

/* Limits applied to untrusted documents. A zero field takes the default. */
typedef struct sb_rcml_limits_s {
    size_t max_bytes;           /* document size, checked before parsing:
                                   1 MiB */
    int max_depth;              /* element nesting, <Response> is depth 1:
                                   16 */
    size_t max_nodes;           /* elements in the whole document: 10000 */
    size_t max_attrs;           /* attributes on one element: 64 */
    size_t max_total_attrs;     /* attributes in the whole document: 10000 */
} sb_rcml_limits_t;

#define SB_RCML_DEFAULT_MAX_BYTES (1024 * 1024)
#define SB_RCML_DEFAULT_MAX_DEPTH 16
#define SB_RCML_DEFAULT_MAX_NODES 10000
#define SB_RCML_DEFAULT_MAX_ATTRS 64
#define SB_RCML_DEFAULT_MAX_TOTAL_ATTRS 10000

typedef struct sb_rcml_attr_s {
    const char *name;           /* local name, as written (case kept) */
    const char *value;          /* entity- and character-reference decoded */
} sb_rcml_attr_t;

/* One element. Strings are UTF-8, NUL-terminated and never NULL. */
typedef struct sb_rcml_node_s {
    const char *name;           /* local name: "Say", "Dial", "Number" */
    const sb_rcml_attr_t *attrs;
    size_t attr_count;
    const char *text;           /* direct text and CDATA children joined,
                                   leading/trailing whitespace trimmed;
                                   "" when none */
    const struct sb_rcml_node_s *children;  /* element children, in order */
    size_t child_count;
    int line;                   /* line in the document, 0 when unknown */
} sb_rcml_node_t;

/* A parsed document. Owner: the caller of sb_rcml_parse (sb_rcml_free).
 * Every node and string lives in the document's own memory. */
typedef struct sb_rcml_doc_s {
    sb_rcml_node_t root;        /* always the <Response> element: its
                                   children are the verbs */
    struct sb_rcml_arena_s *arena_;  /* private */
} sb_rcml_doc_t;

/* Parses len bytes of xml (borrowed) into a verb tree. limits may be NULL
 * for the defaults. No network access, no external DTD or entity is
 * loaded, and a DOCTYPE that declares entities is refused before any
 * expansion can happen. Before libxml2 sees the text, one linear scan
 * counts elements, nesting and attributes (an upper bound of each), so a
 * document over a limit costs no parse at all (libxml2's duplicate-
 * attribute check is quadratic in the attributes of an element). The
 * libxml2 document is freed before return.
 *
 * Returns 0 and *out (owned: sb_rcml_free), or, with *out untouched and a
 * one-line message in err (size errlen; err may be NULL):
 *   SB_ETOOBIG  len is over limits->max_bytes (nothing was parsed)
 *   SB_ESYNTAX  not well-formed XML (empty input included), or an
 *               encoding other than UTF-8, UTF-16 or an ASCII-compatible
 *               single-byte one (ISO-8859-*, windows-125*, US-ASCII)
 *   SB_ERCML    the root element is not <Response>
 *   SB_EPERM    the document declares entities or attribute lists
 *               (DOCTYPE internal subset)
 *   SB_ELIMIT   nesting deeper than max_depth, more than max_nodes
 *               elements, more than max_attrs attributes on an element
 *               or more than max_total_attrs in all
 * lua/switchboard/rcml.lua maps these to Notification codes: 12200 for
 * SB_ERCML, 12100 for the others. */
int sb_rcml_parse(const char *xml, size_t len, const sb_rcml_limits_t *limits,
                  sb_rcml_doc_t **out, char *err, size_t errlen);

/* Frees a document (NULL is a no-op). */
void sb_rcml_free(sb_rcml_doc_t *doc);

/* Returns borrowed value of the attribute named name (exact match), or
 * NULL. Valid as long as the document. */
const char *sb_rcml_attr(const sb_rcml_node_t *node, const char *name);

/* ------------------------------------------------------------------------ */
/* Voice-request parameters (reference: restcomm.md 3.1 and 1.5)            */
/* ------------------------------------------------------------------------ */

#define SB_RCML_API_VERSION "2012-04-24"

typedef struct sb_rcml_param_s {
    char *name;                 /* owned */
    char *value;                /* owned */
} sb_rcml_param_t;

/* An ordered name/value list. Embedded in its owner: sb_rcml_params_init /
 * sb_rcml_params_free. */
typedef struct sb_rcml_params_s {
    sb_rcml_param_t *items;     /* owned array of count pairs */
    size_t count;
    size_t cap;
} sb_rcml_params_t;

#define SB_RCML_PARAMS_INIT {NULL, 0, 0}

void sb_rcml_params_init(sb_rcml_params_t *p);
void sb_rcml_params_free(sb_rcml_params_t *p);
/* Appends a pair. Borrows name and value (both copied; NULL value is ""). */
void sb_rcml_params_add(sb_rcml_params_t *p, const char *name,
                        const char *value);
/* Returns borrowed value of the first pair named name, or NULL. */
const char *sb_rcml_params_get(const sb_rcml_params_t *p, const char *name);

typedef struct sb_rcml_header_s {
    const char *name;
    const char *value;
} sb_rcml_header_t;

/* What the interpreter knows about its call. Every pointer is borrowed for
 * the sb_rcml_voice_params call; NULL means unknown. */
typedef struct sb_rcml_call_info_s {
    const char *call_sid;
    const char *instance_id;
    const char *outbound_call_sid;  /* only when there is a dial leg */
    const char *account_sid;
    const char *from;               /* user part (or E.164) */
    const char *to;
    const char *call_status;        /* "ringing", "in-progress", ... */
    const char *direction;          /* "inbound", "outbound-api", ... */
    const char *caller_name;        /* From display name */
    const char *forwarded_from;     /* NULL: derived from Diversion */
    const char *call_timestamp;     /* ISO 8601 */
    const char *refer_target;       /* the three only after a REFER */
    const char *transferor;
    const char *transferee;
    const sb_rcml_header_t *headers;    /* the INVITE's headers */
    size_t header_count;
} sb_rcml_call_info_t;

/* Appends the standard parameters to out, in Restcomm's order: CallSid,
 * InstanceId, [OutboundCallSid], AccountSid, From, To, CallStatus,
 * ApiVersion, Direction, CallerName, ForwardedFrom, CallTimestamp,
 * [ReferTarget, Transferor, Transferee], then SipHeader_<name> for every
 * header whose name starts with "X-" (any case) and for Diversion.
 * CallerName and ForwardedFrom are the literal "null" when unknown, as in
 * Restcomm; other unknown values are sent as "". Borrows ci. */
void sb_rcml_voice_params(const sb_rcml_call_info_t *ci, sb_rcml_params_t *out);

/* Writes the user part of a Diversion (or any name-addr) header value into
 * out (size outlen): the text between "sip:"/"sips:"/"tel:" and '@', ';',
 * '>' or the end. Returns 0, or SB_ENOENT when there is none (out = ""). */
int sb_rcml_uri_user(const char *value, char *out, size_t outlen);

#endif
