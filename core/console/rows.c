/*
 * rows.c: the listings hooks fill for calls(), registrations() and
 * numbers(): rows of named text or integer fields, kept in C memory until
 * the host module turns them into Lua tables (host.c), so that a hook
 * never touches Lua and a Lua error cannot leak what it built.
 */
#include <string.h>

#include "con_int.h"

static int col_index(sb_con_rows_t *r, const char *name)
{
    for (int i = 0; i < r->ncols; i++)
        if (strcmp(r->cols[i], name) == 0)
            return i;
    if (r->ncols == r->capcols) {
        r->capcols = r->capcols ? r->capcols * 2 : 8;
        r->cols = sb_xrealloc(r->cols, (size_t)r->capcols * sizeof *r->cols);
    }
    r->cols[r->ncols] = sb_xstrdup(name);
    return r->ncols++;
}

void sb_con_rows_add(sb_con_rows_t *r)
{
    if (r->nrows == r->caprows) {
        r->caprows = r->caprows ? r->caprows * 2 : 16;
        r->rows = sb_xrealloc(r->rows, (size_t)r->caprows * sizeof *r->rows);
    }
    memset(&r->rows[r->nrows], 0, sizeof r->rows[0]);
    r->nrows++;
}

static sb__con_field_t *new_field(sb_con_rows_t *r, const char *name)
{
    if (r->nrows == 0)
        sb_con_rows_add(r);
    sb__con_row_t *row = &r->rows[r->nrows - 1];
    int col = col_index(r, name);
    for (int i = 0; i < row->n; i++) {
        if (row->fields[i].col == col) {       /* set twice: last wins */
            free(row->fields[i].s);
            row->fields[i].s = NULL;
            return &row->fields[i];
        }
    }
    if (row->n == row->cap) {
        row->cap = row->cap ? row->cap * 2 : 8;
        row->fields = sb_xrealloc(row->fields, (size_t)row->cap * sizeof *row->fields);
    }
    sb__con_field_t *f = &row->fields[row->n++];
    memset(f, 0, sizeof *f);
    f->col = col;
    return f;
}

void sb_con_rows_str(sb_con_rows_t *r, const char *name, const char *value)
{
    if (value == NULL)
        return;
    sb__con_field_t *f = new_field(r, name);
    f->is_int = 0;
    f->s = sb_xstrdup(value);
}

void sb_con_rows_int(sb_con_rows_t *r, const char *name, int64_t value)
{
    sb__con_field_t *f = new_field(r, name);
    f->is_int = 1;
    f->i = value;
}

void sb__con_rows_clear(sb_con_rows_t *r)
{
    for (int i = 0; i < r->nrows; i++) {
        for (int j = 0; j < r->rows[i].n; j++)
            free(r->rows[i].fields[j].s);
        free(r->rows[i].fields);
    }
    free(r->rows);
    for (int i = 0; i < r->ncols; i++)
        free(r->cols[i]);
    free(r->cols);
    memset(r, 0, sizeof *r);
}
