/*
 * pool_int.h: the number_pool table (migration 0010) as the row layer
 * sees it, shared by pool.c (which fills it from numbers.pool) and
 * available_numbers.c (which searches it). core/api only.
 */
#ifndef SB_API_POOL_INT_H
#define SB_API_POOL_INT_H

#include "rows.h"

enum { SB__POOL_NUMBER, SB__POOL_COUNTRY, SB__POOL_TYPE, SB__POOL_NAME, SB__POOL_VOICE,
       SB__POOL_SMS, SB__POOL_MMS, SB__POOL_FAX, SB__POOL_REGION, SB__POOL_POSTAL,
       SB__POOL_LOCALITY, SB__POOL_TAKEN, SB__POOL_NCOLS };

/* Columns in that order; defined in pool.c. */
extern const sb_rows_table_t sb__api_pool_table;

/* Short names for the columns of the pool table, for pool.c and
 * available_numbers.c. */
#define C_NUMBER SB__POOL_NUMBER
#define C_COUNTRY SB__POOL_COUNTRY
#define C_TYPE SB__POOL_TYPE
#define C_NAME SB__POOL_NAME
#define C_VOICE SB__POOL_VOICE
#define C_SMS SB__POOL_SMS
#define C_MMS SB__POOL_MMS
#define C_FAX SB__POOL_FAX
#define C_REGION SB__POOL_REGION
#define C_POSTAL SB__POOL_POSTAL
#define C_LOCALITY SB__POOL_LOCALITY
#define C_TAKEN SB__POOL_TAKEN
#define C_COUNT SB__POOL_NCOLS
#define pool_table sb__api_pool_table

#endif
