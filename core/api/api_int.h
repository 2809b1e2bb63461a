/*
 * api_int.h: shared between the files of core/api only: the api object,
 * the per-request context, the XML/JSON writer, and the generic resource
 * layer (field tables) every resource file fills in.
 */
#ifndef SB_API_INT_H
#define SB_API_INT_H

#include "api.h"
#include "account_tree.h"
#include "rows.h"
#include "util.h"

#include <stdint.h>

#define SB_API_VERSION "2012-04-24"
#define SB_API_PREFIX "/restcomm/" SB_API_VERSION
/* Twilio's dialect: the same resources under /2010-04-01, always JSON
 * and always paged, with URIs under that version. A request in it has
 * ctx->json == SB__API_JSON_TWILIO (true wherever JSON is tested). */
#define SB_API_TWILIO_VERSION "2010-04-01"
#define SB_API_TWILIO_PREFIX "/" SB_API_TWILIO_VERSION
#define SB__API_JSON_TWILIO 2
/* The version a URI in a body names, for a writer's or request's json. */
#define SB__API_VER(json) ((json) == SB__API_JSON_TWILIO ? SB_API_TWILIO_VERSION : SB_API_VERSION)
#define SB__API_MAX_SEGS 12
#define SB__API_MAX_ROUTES 64
#define SB__API_MAX_RESOURCES 24
#define SB__API_CRED_SLOTS 1024       /* verified-password cache entries */
#define SB__API_MAX_PENDING 64        /* thread-pool jobs at once */
/* Failed-login limits (auth.c), per client IP. */
#define SB__API_LOGIN_ADDRS 256       /* addresses remembered */
#define SB__API_LOGIN_INFLIGHT 4      /* password checks at once per address */
#define SB__API_LOGIN_FAILURES 10     /* failures before the back-off */
#define SB__API_LOGIN_FORGET_MS 600000  /* failures older than this: forgotten */
#define SB__API_LOGIN_MAX_BACKOFF_MS 300000
#define SB__API_SUSPECT_PENDING 32    /* of SB__API_MAX_PENDING, open to
                                         addresses with recent failures */

/* One client address's recent password checks (auth.c). */
typedef struct sb__api_login_s {
    char ip[64];                /* "" when the slot is free */
    int inflight;               /* password checks running */
    int failures;               /* since last_fail - FORGET_MS */
    uint64_t last_fail;         /* uv_now of the last failure */
    uint64_t blocked_until;     /* uv_now before which checks are refused */
    uint64_t used;              /* uv_now of the last use (replacement) */
} sb__api_login_t;
#define SB__API_MAX_PAGE_SIZE 1000
#define SB__API_DEFAULT_PAGE_SIZE 50
#define SB__API_STRONG_PASSWORD 50    /* Restcomm's strength threshold */

typedef struct sb__api_ctx_s sb__api_ctx_t;
typedef struct sb__api_resource_s sb__api_resource_t;
typedef struct sb__api_field_s sb__api_field_t;
typedef void (*sb__api_handler_t)(sb__api_ctx_t *ctx);

/* ---- the writer ---------------------------------------------------------- */

/* Writes one document as XML (PascalCase elements inside
 * <RestcommResponse>) or JSON (snake_case members, no wrapper), from the
 * same calls. Names: xml is the element, json the member name (ignored
 * inside a JSON array). Embedded in its user. */
typedef struct sb__api_w_s {
    sb_buf_t buf;
    int json;
    int depth;
    unsigned char first[16];     /* no member written yet at this depth */
    unsigned char array[16];     /* the container at this depth is an array */
} sb__api_w_t;

/* Flags of the value writers. */
#define SB__W_XOMIT 0x1     /* NULL: no XML element (else an empty one) */
#define SB__W_JOMIT 0x2     /* NULL: no JSON member (else null) */

void sb__api_w_init(sb__api_w_t *w, int json);
void sb__api_w_free(sb__api_w_t *w);
/* <RestcommResponse> for XML, nothing for JSON. */
void sb__api_w_doc_begin(sb__api_w_t *w);
void sb__api_w_doc_end(sb__api_w_t *w);
void sb__api_w_obj_begin(sb__api_w_t *w, const char *xml, const char *json);
void sb__api_w_obj_end(sb__api_w_t *w, const char *xml);
/* xml_attrs: text put inside the XML start tag (already escaped), or NULL. */
void sb__api_w_arr_begin(sb__api_w_t *w, const char *xml, const char *json,
                         const char *xml_attrs);
void sb__api_w_arr_end(sb__api_w_t *w, const char *xml);
void sb__api_w_str(sb__api_w_t *w, const char *xml, const char *json,
                   const char *v, unsigned flags);
void sb__api_w_int(sb__api_w_t *w, const char *xml, const char *json, int64_t v);
void sb__api_w_bool(sb__api_w_t *w, const char *xml, const char *json, int v);
/* v / scale as a number with decimals digits (e.g. 421, 2, 100: 4.21). */
void sb__api_w_fixed(sb__api_w_t *w, const char *xml, const char *json, int64_t v,
                     int decimals, int64_t scale);
/* Escapes s for XML text or attribute values / JSON strings. */
void sb__api_xml_escape(sb_buf_t *b, const char *s);
void sb__api_json_escape(sb_buf_t *b, const char *s);

/* ---- field tables -------------------------------------------------------- */

typedef enum {
    SB__T_TEXT = 0,     /* free text, at most max bytes (0: 255) */
    SB__T_SID,          /* a SID with prefix (empty clears with CLEAR) */
    SB__T_URL,          /* http(s) URL or absolute path (empty clears) */
    SB__T_METHOD,       /* GET or POST, stored upper-case */
    SB__T_BOOL,         /* true/false, stored 1/0 */
    SB__T_INT,          /* integer in [min, max] */
    SB__T_ENUM,         /* one of choices (case-insensitive in) */
    SB__T_DATE,         /* seconds; written as RFC 2822 */
    SB__T_MSDATE,       /* milliseconds; written as ISO 8601 (Joda's form) */
    SB__T_URI,          /* computed: the resource's own Uri */
    SB__T_CUSTOM        /* computed: render() writes it */
} sb__api_type_t;

#define SB__F_CREATE 0x01   /* settable on create */
#define SB__F_UPDATE 0x02   /* settable on update */
#define SB__F_REQ    0x04   /* required on create */
#define SB__F_HIDDEN 0x08   /* never written out (hashes, owner) */
#define SB__F_XOMIT  0x10   /* NULL: no XML element */
#define SB__F_JOMIT  0x20   /* NULL: no JSON member */
#define SB__F_CLEAR  0x40   /* an empty value stores NULL */
#define SB__F_JSTR   0x80   /* INT: a JSON string, as Restcomm writes it */
#define SB__F_W (SB__F_CREATE | SB__F_UPDATE)

/* One field of a resource: its names in XML, JSON and the request, its
 * column, type and rules. A computed field has no column. */
struct sb__api_field_s {
    const char *xml;
    const char *json;
    const char *param;          /* request parameter; NULL: same as xml */
    const char *column;         /* NULL for computed fields */
    sb__api_type_t type;
    unsigned flags;
    const char *def;            /* default on create (parameter text) */
    const char *prefix;         /* SID prefix */
    const char *const *choices; /* ENUM values, NULL-terminated */
    int64_t min, max;           /* INT range; TEXT/URL max length */
    /* CUSTOM: writes the field for the row (vals: one per column). */
    void (*render)(sb__api_ctx_t *ctx, sb__api_w_t *w,
                   const sb__api_resource_t *res, const sb_rows_val_t *vals);
};

/* A field table entry: names, column, type, flags, then designated
 * extras (.def, .prefix, .choices, .min, .max, .render, .param). */
#define SB__FIELD(xml_, json_, col_, type_, flags_, ...)                   \
    {.xml = (xml_), .json = (json_), .column = (col_), .type = (type_),     \
     .flags = (flags_), __VA_ARGS__}

/* What a list filter does with its parameter. */
typedef enum {
    SB__FILT_EQ = 0,            /* column = value */
    SB__FILT_WILDCARD,          /* Restcomm wildcards: '*' any one char; the
                                   value matches anywhere in the column */
    SB__FILT_CONTAINS,          /* substring, literal */
    SB__FILT_DATE_FROM,         /* column >= YYYY-MM-DD */
    SB__FILT_DATE_TO,           /* column < YYYY-MM-DD + 1 day */
    SB__FILT_INT,               /* column = integer */
    SB__FILT_PATTERN            /* with a '%': Restcomm's LIKE ('%' any
                                   run, the rest literal); else column =
                                   value */
} sb__api_filter_mode_t;

typedef struct sb__api_filter_s {
    const char *param;
    const char *column;
    sb__api_filter_mode_t mode;
} sb__api_filter_t;

typedef struct sb__api_sort_s {
    const char *name;           /* SortBy value: "PhoneNumber" */
    const char *column;
} sb__api_sort_t;

/* A write being prepared: values for every column (rows.h), the strings
 * they point to, and the current row on update. */
typedef struct sb__api_edit_s {
    const sb__api_resource_t *res;
    sb_rows_val_t *v;           /* res->table.ncols values */
    char **owned;
    int nowned, cap;
    const sb_rows_val_t *old;   /* update: current values; NULL on create */
    int create;
} sb__api_edit_t;

#define SB__OP_LIST   0x01
#define SB__OP_GET    0x02
#define SB__OP_CREATE 0x04
#define SB__OP_UPDATE 0x08
#define SB__OP_DELETE 0x10

/* A resource under /Accounts/{AC}/<path>. Everything is static data except
 * table and colmap, which sb__api_resource_init fills from fields. */
struct sb__api_resource_s {
    const char *path;           /* "Applications" */
    const char *xml_item;       /* "Application" */
    const char *xml_list;       /* "Applications" */
    const char *json_list;      /* JSON array member of a paged list */
    int always_paged;           /* Restcomm pages it; else paged only when
                                   Page, PageSize or AfterSid is given */
    const char *table_name;
    const char *sid_prefix;
    const char *owner_column;   /* "account_sid" */
    const sb__api_field_t *fields;
    int nfields;
    unsigned ops;
    int delete_status;          /* 200 or 204 */
    const sb__api_filter_t *filters;
    int nfilters;
    const sb__api_sort_t *sorts;
    int nsorts;
    const char *default_sort;   /* a sorts[] name, or NULL: insertion */
    int sub_accounts;           /* the list takes SubAccounts=true (the
                                   operated account's descendants too) */
    const char *const *nullable_sorts;  /* sort columns that may hold NULL
                                   (rows.h order_nullable), NULL-ended */

    /* Hooks, all optional. prepare: after the generic parse of a create or
     * update; may change e, or answer the request itself (returns 1) or
     * continue (returns 0). conflict: the write hit a UNIQUE constraint;
     * answers the request. deleted: after a delete. */
    int (*prepare)(sb__api_ctx_t *ctx, sb__api_edit_t *e);
    void (*conflict)(sb__api_ctx_t *ctx, sb__api_edit_t *e);
    void (*deleted)(sb__api_ctx_t *ctx, const sb_rows_val_t *old);

    /* Filled at init (shared by every api instance: refs counts them). */
    int refs;
    sb_rows_table_t table;
    sb_rows_col_t *cols;        /* owned by the api */
    int colmap[64];             /* field index -> column index or -1 */
    int sid_col, owner_col, created_col, updated_col, version_col;
};

/* ---- the api and the request context ------------------------------------ */

#define SB__API_LAT_BUCKETS 10
/* REST answers of one route (metrics.c). */
typedef struct sb__api_route_stats_s {
    uint64_t codes[5];          /* 1xx .. 5xx */
    uint64_t buckets[SB__API_LAT_BUCKETS];  /* answered within bounds[i] */
    uint64_t count;
    double sum;                 /* seconds */
} sb__api_route_stats_t;

typedef struct sb__api_route_s {
    const char *pattern;        /* "Accounts/{AC}/Clients/{SID}" */
    const char *methods;        /* "GET,POST,PUT" */
    sb__api_handler_t fn;
    const sb__api_resource_t *res;
    int self_update;            /* open to an uninitialized account */
    /* Optional: returns 1 when this request is served without credentials
     * (recordings media, as Restcomm serves them). NULL: never. */
    int (*anonymous)(const sb__api_ctx_t *ctx);
} sb__api_route_t;

struct sb_api_s {
    sb_store_t *store;
    const sb_config_t *cfg;
    sb_http_router_t *router;
    int route_id;
    int twilio_route_id;        /* SB_API_TWILIO_PREFIX, or -1 */
    int metrics_route_id;       /* GET /metrics (metrics.c), or -1 */
    sb__api_route_stats_t rstats[SB__API_MAX_ROUTES + 1];   /* by route;
                                   the last: requests no route matched */
    sb_api_metrics_cb metrics_cb;   /* the server's own metrics, or NULL */
    void *metrics_arg;
    uv_loop_t *loop;
    int pending;                /* thread-pool jobs running */
    int freeing;                /* sb_api_free called while pending > 0 */
    sb__api_route_t routes[SB__API_MAX_ROUTES];
    int nroutes;
    const sb__api_resource_t *resources[SB__API_MAX_RESOURCES];
    int nresources;
    uint8_t creds[SB__API_CRED_SLOTS][32];  /* hashes of verified logins */
    uint8_t cred_used[SB__API_CRED_SLOTS];
    sb__api_login_t logins[SB__API_LOGIN_ADDRS];  /* auth.c */
    int suspect_pending;        /* of pending, for addresses that failed */
    struct sb_call_mgr_s *calls;    /* live calls for metrics (calls.c) */
    sb_api_plugin_cb plugin_cb;     /* plugin routes (plugins.c), or NULL */
    void *plugin_arg;
    int plugin_pending;             /* plugin requests not answered yet */
    int calls_pending;              /* call modifications not answered */
    int durable_pending;            /* write answers waiting for their
                                       commit (durable.c) */
    struct sb__api_rate_s *call_rates[64];  /* POST Calls per account
                                       (calls.c), hashed by SID */
    const char *recordings_dir;     /* borrowed (sb_api_use_recordings) */
    struct sb__api_mp3_job_s *mp3_jobs; /* MP3 conversions running
                                       (recording_media.c) */
    int mp3_running;
    struct sb_msg_s *msg;           /* messaging (sms.c), or NULL */
    struct sb__api_pool_s *pool;    /* the number pool (pool.c), or NULL */
};

/* One request, from arrival to answer. Owned by the api until answered. */
struct sb__api_ctx_s {
    sb_api_t *api;
    sb_http_req_t *req;
    const char *method;         /* "GET", "POST", ... (HEAD is GET) */
    int json;
    char *segs[SB__API_MAX_SEGS];   /* decoded, ".json" stripped */
    int nsegs;
    char *path;                 /* "/2012-04-24/Accounts/..." as requested */
    const sb__api_route_t *route;
    const char *ac_key;         /* {AC} of the route (segs[1]) */
    const char *sid;            /* {SID} */
    const char *sub;            /* {SUB} */
    int tail;                   /* index of the first segment a final "*"
                                   matched (ctx->nsegs when none) */
    sb_account_t me;            /* the authenticated account */
    sb_account_t op;            /* the account in the path */
    int have_op;
    sb_http_params_t query;     /* the request's parameters, decoded here */
    sb_http_params_t form;
    /* thread-pool work */
    uv_work_t work;
    void (*work_fn)(sb__api_ctx_t *ctx);
    void (*done_fn)(sb__api_ctx_t *ctx);
    char *w_in1, *w_in2, *w_out;
    int w_result;
    int w_suspect;              /* auth.c: the check counted as suspect */
    uint64_t t0_ns;             /* arrival (uv_hrtime), for metrics */
    void *hold;                 /* handler data kept across the work */
    void (*hold_free)(void *);
};

/* ---- shared functions ---------------------------------------------------- */

/* api.c */
/* Frees the api once sb_api_free was called and nothing is pending. */
void sb__api_release(sb_api_t *api);
/* Answers with body (borrowed) and frees ctx. */
void sb__api_send(sb__api_ctx_t *ctx, int status, const char *body, size_t len);
/* Answers with a body of the given type (borrowed) and frees ctx. */
void sb__api_send_raw(sb__api_ctx_t *ctx, int status, const char *ctype,
                      const char *body, size_t len);
/* durable.c: the answer to a write (any method but GET, HEAD, OPTIONS)
 * made while the store has writes not yet committed (a write batch) is
 * held until they are: returns 1 when it took the answer (copied) and
 * ctx (answered from the store's commit), 0 when it may go now. */
int sb__api_hold_until_durable(sb__api_ctx_t *ctx, int status, const char *ctype,
                               const char *body, size_t len);
/* Answers with the writer's document (200) and frees both. */
void sb__api_send_doc(sb__api_ctx_t *ctx, sb__api_w_t *w);
/* Answers an error: the Restcomm message body in the request's format
 * (401 adds WWW-Authenticate). */
void sb__api_error(sb__api_ctx_t *ctx, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* First value of the request parameter (form, then query), or NULL. */
const char *sb__api_param(sb__api_ctx_t *ctx, const char *name);
/* Loads ctx->op from ctx->ac_key and checks that the caller may see it.
 * Returns 0, or 1 after answering (400, 403, 404). */
int sb__api_load_op(sb__api_ctx_t *ctx);
/* Runs fn on the thread pool (or inline without a loop), then done on the
 * loop thread. On overload answers 503 itself and returns 1; else 0. */
int sb__api_offload(sb__api_ctx_t *ctx, void (*fn)(sb__api_ctx_t *),
                    void (*done)(sb__api_ctx_t *));
int64_t sb__api_now(void);
/* Appends "/2012-04-24/Accounts/<ac>/<path>/<sid>" (+".json"). */
void sb__api_uri(sb_buf_t *b, int json, const char *ac, const char *path,
                 const char *sid);

/* auth.c */
/* Decodes standard base64 (padding optional) into out (cap bytes, NUL
 * added). Returns the length or -1. */
long sb__api_b64_decode(const char *in, char *out, size_t cap);
/* Authenticates the request, then calls sb__api_authorized(ctx) or
 * answers 401/403/503. */
void sb__api_authenticate(sb__api_ctx_t *ctx);
void sb__api_authorized(sb__api_ctx_t *ctx);
/* roles.c: Restcomm's roles, in increasing order of rights. */
enum {
    SB__API_ROLE_GUEST = 0,
    SB__API_ROLE_UNPRIVILEGED,
    SB__API_ROLE_DEVELOPER,
    SB__API_ROLE_ADMINISTRATOR
};
/* The role named s (any case), or -1 when s is NULL or no role. */
int sb__api_role_parse(const char *s);
/* The canonical name of a role (returns a static string). */
const char *sb__api_role_name(int role);
/* The role of an account (an unknown role string counts as Guest). */
int sb__api_role_of(const sb_account_t *a);
/* Checks the caller's role against the route and method of ctx. Returns
 * 0 when allowed, or 1 after answering 403. */
int sb__api_role_check(sb__api_ctx_t *ctx);
/* Restcomm's password strength score, 0..100. */
int sb__api_password_strength(const char *password);
int sb__api_password_ok(const char *password);

/* resource.c */
int sb__api_resource_init(sb_api_t *api, sb__api_resource_t *res);
void sb__api_resource_close(sb__api_resource_t *res);
int sb__api_field_index(const sb__api_resource_t *res, const char *xml);
/* Column index of a field named by its column, or -1. */
int sb__api_col(const sb__api_resource_t *res, const char *column);
void sb__api_list(sb__api_ctx_t *ctx);
/* Lists res with base conditions (ownership; copied) plus the resource's
 * filters, sorting and paging from the request, and answers. */
void sb__api_list_with(sb__api_ctx_t *ctx, const sb__api_resource_t *res,
                       sb_rows_cond_t *base, int nbase);
void sb__api_get(sb__api_ctx_t *ctx);
void sb__api_create(sb__api_ctx_t *ctx);
void sb__api_update(sb__api_ctx_t *ctx);
void sb__api_delete(sb__api_ctx_t *ctx);
void sb__api_item(sb__api_ctx_t *ctx);       /* GET/POST/PUT/DELETE {SID} */
void sb__api_collection(sb__api_ctx_t *ctx); /* GET/POST */
/* Writes one row as the resource's item element. */
void sb__api_render_row(sb__api_ctx_t *ctx, sb__api_w_t *w,
                        const sb__api_resource_t *res, const sb_rows_val_t *vals);
/* Reads the row keyed sid (and owned by the operated account, when
 * owner is set) and answers it (200), or 404. */
void sb__api_send_row(sb__api_ctx_t *ctx, const sb__api_resource_t *res,
                      const char *sid);
/* Parses text for field f into value v (strings go to e->owned). Returns
 * 0, or writes a message into err and returns SB_EINVAL. */
int sb__api_parse_value(sb__api_edit_t *e, const sb__api_field_t *f,
                        const char *text, sb_rows_val_t *v, char *err,
                        size_t errlen);
void sb__api_edit_init(sb__api_edit_t *e, const sb__api_resource_t *res);
void sb__api_edit_free(sb__api_edit_t *e);
void sb__api_edit_text(sb__api_edit_t *e, const char *column, const char *s);
void sb__api_edit_int(sb__api_edit_t *e, const char *column, int64_t i);
void sb__api_edit_null(sb__api_edit_t *e, const char *column);
/* The value a column will have after the edit (new if set, else old), or
 * NULL. */
const sb_rows_val_t *sb__api_edit_get(const sb__api_edit_t *e, const char *column);
/* Paging: parses Page/PageSize, counts, checks the page, and fills the
 * query's offset/limit/after. Returns 0, or 1 after answering 400. */
typedef struct sb__api_page_s {
    int64_t page, size, total, numpages;
    int64_t shown;              /* rows written on this page */
    char last_sid[SB_SID_SIZE];
} sb__api_page_t;
int sb__api_page_prepare(sb__api_ctx_t *ctx, const sb_rows_table_t *t,
                         const sb_rows_cond_t *conds, int nconds,
                         sb_rows_query_t *q, sb__api_page_t *pg);
/* Writes the paging members (JSON) or returns the XML attributes (owned)
 * of the list. */
char *sb__api_page_xml_attrs(sb__api_ctx_t *ctx, const sb__api_page_t *pg);
void sb__api_page_json(sb__api_ctx_t *ctx, sb__api_w_t *w, const sb__api_page_t *pg);
/* Restcomm paging when the request asks for it or the resource is always
 * paged. */
int sb__api_wants_paging(sb__api_ctx_t *ctx, const sb__api_resource_t *res);

/* The resources (one file each). */
extern sb__api_resource_t sb__api_applications;
extern sb__api_resource_t sb__api_clients;
extern sb__api_resource_t sb__api_accounts;
extern sb__api_resource_t sb__api_numbers;
extern sb__api_resource_t sb__api_notifications;
extern sb__api_resource_t sb__api_calls;
extern sb__api_resource_t sb__api_recordings;
extern sb__api_resource_t sb__api_call_recordings;
extern sb__api_resource_t sb__api_conferences;
extern sb__api_resource_t sb__api_participants;
extern sb__api_resource_t sb__api_sms;          /* sms.c: SMS/Messages */
extern sb__api_resource_t sb__api_messages;     /* sms.c: Messages (Twilio) */
extern sb__api_resource_t sb__api_email;        /* sms.c: Email/Messages */

/* sms.c: GET lists, POST sends (SMS/Messages, Messages; Email/Messages). */
void sb__api_sms_collection(sb__api_ctx_t *ctx);
void sb__api_email_collection(sb__api_ctx_t *ctx);

/* calls.c: GET Accounts/{AC}/Supervisor[/metrics|/livecalls]. */
void sb__api_supervisor(sb__api_ctx_t *ctx);
/* metrics.c: GET /metrics on the router; and the count of one answer. */
int sb__api_metrics_mount(sb_api_t *api);
void sb__api_metrics_request(sb__api_ctx_t *ctx, int status);
/* calls.c: GET lists, POST creates a call; GET one, POST modifies it. */
void sb__api_calls_collection(sb__api_ctx_t *ctx);
void sb__api_calls_item(sb__api_ctx_t *ctx);
/* Frees what calls.c keeps (the per-account rates). */
void sb__api_calls_free(sb_api_t *api);

/* numbers.c: GET/POST IncomingPhoneNumbers/{Local,TollFree,Mobile}. */
void sb__api_numbers_factory(sb__api_ctx_t *ctx);
/* notifications.c: GET Calls/{CA}/Notifications. */
void sb__api_call_notifications(sb__api_ctx_t *ctx);
/* recordings.c: Recordings/{SID} (GET, DELETE; .wav and .mp3 media),
 * Calls/{CA}/Recordings, and whether a request is served without
 * credentials (the media, unless recordings.media_auth). */
void sb__api_recording_item(sb__api_ctx_t *ctx);
void sb__api_call_recordings_list(sb__api_ctx_t *ctx);
int sb__api_recording_anonymous(const sb__api_ctx_t *ctx);
/* recording_media.c: answers GET/HEAD of a recording's media, kind "wav"
 * or "mp3". The caller checked that the recording sid (the bare SID)
 * belongs to the account of the path; file is its WAV file name. All
 * borrowed. */
void sb__api_recording_media(sb__api_ctx_t *ctx, const char *sid, const char *kind,
                             const char *file);
/* Marks a running MP3 conversion of sid as deleted (its output is
 * removed when it ends and its waiters get 404). */
void sb__api_recording_media_forget(sb_api_t *api, const char *sid);

/* conferences.c: GET Conferences (Status checked), GET/POST
 * Conferences/{CF}; and the lookup participants.c shares: checks that sid
 * is a CF SID of the operated account's (400, 404 answered: returns 1)
 * and sets *completed (may be NULL) when that conference has ended.
 * participants.c: GET Conferences/{CF}/Participants and
 * GET/POST/DELETE Conferences/{CF}/Participants/{CA}. */
void sb__api_conferences_list(sb__api_ctx_t *ctx);
void sb__api_conference_item(sb__api_ctx_t *ctx);
int sb__api_conference_load(sb__api_ctx_t *ctx, const char *sid, int *completed);
void sb__api_participants_list(sb__api_ctx_t *ctx);
void sb__api_participant_item(sb__api_ctx_t *ctx);

/* usage.c: GET Usage/Records and Usage/Records/{period}. */
void sb__api_usage(sb__api_ctx_t *ctx);
/* plugins.c: Accounts/{AC}/Plugins/... to the plugin handler. */
void sb__api_plugin_route(sb__api_ctx_t *ctx);

/* accounts.c */
void sb__api_accounts_list(sb__api_ctx_t *ctx);
void sb__api_accounts_create(sb__api_ctx_t *ctx);
void sb__api_accounts_get(sb__api_ctx_t *ctx);
void sb__api_accounts_update(sb__api_ctx_t *ctx);
void sb__api_accounts_delete(sb__api_ctx_t *ctx);

/* numbers.c: writes the summaries of the numbers that use application
 * app (voice, SMS, USSD or refer) as array items; nothing when the numbers
 * table does not exist. */
void sb__api_app_numbers(sb__api_ctx_t *ctx, sb__api_w_t *w, const char *app);

/* clients.c: the digest hashes of login:realm:password. */
void sb__api_client_ha1(const char *login, const char *realm,
                        const char *password, char md5[33], char sha256[65]);
/* Creates the SIP client Restcomm links to a new account (Login = the
 * e-mail's local part) unless that login is taken. It has no password
 * (it cannot register or call) until one is set through Clients: unlike
 * Restcomm's, it does not share the account's, whose slow hash a SIP
 * digest would sidestep. */
void sb__api_client_link(sb__api_ctx_t *ctx, const char *account_sid,
                         const char *email, const char *friendly_name);

/* ---- issue 21: the remaining resources and Twilio's rendering ------------ */

/* outgoing_caller_ids.c, transcriptions.c (TR; also Twilio's
 * Recordings/{RE}/Transcriptions), version.c (GET Accounts/{AC}/Version). */
extern sb__api_resource_t sb__api_caller_ids;
extern sb__api_resource_t sb__api_transcriptions;
void sb__api_recording_transcriptions(sb__api_ctx_t *ctx);
void sb__api_version(sb__api_ctx_t *ctx);

/* pool.c: the number pool (numbers.pool). open: loads the file once at
 * start-up (a missing file is an empty pool, watched for; a malformed one
 * fails with SB_EINVAL after logging file:line); watch: reloads it when it
 * changes or on SIGHUP (read and parsed on the thread pool); close: stops
 * watching and frees the pool once its handles and work are done. */
int sb__api_pool_open(sb_api_t *api);
void sb__api_pool_watch(sb_api_t *api, uv_loop_t *loop);
void sb__api_pool_close(sb_api_t *api);
/* GET AvailablePhoneNumbers/{ISO}/Local|TollFree|Mobile, Twilio's
 * AvailablePhoneNumbers and AvailablePhoneNumbers/{ISO}, and
 * IncomingPhoneNumbers/AvailableCountries. */
void sb__api_available_numbers(sb__api_ctx_t *ctx);
void sb__api_available_countries(sb__api_ctx_t *ctx);
/* numbers.c's create hook: with a pool configured, a non-SIP number must
 * be an available pool number; fills its capabilities, type and name
 * from the pool where the request did not. Returns 0, or 1 after
 * answering (400 21452). */
int sb__api_pool_claim(sb__api_ctx_t *ctx, sb__api_edit_t *e);

/* twilio.c: Twilio's error code for an HTTP status; its error body; an
 * error with a specific Twilio code (Restcomm's body on Restcomm paths);
 * a North American +1 number in national form, "(415) 555-0100" (returns
 * 0 and leaves out alone for other numbers); and the renderers of Twilio's
 * from_formatted / to_formatted (Calls) and of prices (Calls: Restcomm
 * writes Price in XML only; Messages). */
int sb__api_twilio_code(int status);
void sb__api_twilio_error_body(sb_buf_t *b, int status, int code, const char *msg);
void sb__api_error_code(sb__api_ctx_t *ctx, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int sb__api_number_national(const char *number, char *out, size_t outlen);
void sb__api_render_price(sb__api_ctx_t *ctx, sb__api_w_t *w,
                          const sb__api_resource_t *res, const sb_rows_val_t *vals,
                          unsigned restcomm_flags);
void sb__api_twilio_from_formatted(sb__api_ctx_t *ctx, sb__api_w_t *w,
                                   const sb__api_resource_t *res, const sb_rows_val_t *vals);
void sb__api_twilio_to_formatted(sb__api_ctx_t *ctx, sb__api_w_t *w,
                                 const sb__api_resource_t *res, const sb_rows_val_t *vals);
void sb__api_twilio_call_price(sb__api_ctx_t *ctx, sb__api_w_t *w,
                               const sb__api_resource_t *res, const sb_rows_val_t *vals);
void sb__api_twilio_message_price(sb__api_ctx_t *ctx, sb__api_w_t *w,
                                  const sb__api_resource_t *res, const sb_rows_val_t *vals);

#endif
