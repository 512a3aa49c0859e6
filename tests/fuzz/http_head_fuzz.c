/*
 * http_head_fuzz.c - libFuzzer target: the request-head pre-check
 * (src/http/precheck.c) on any bytes. Fed at once, a byte at a time, and
 * split where the input says, it must reach the same verdict (result,
 * status, head length): a connection's bytes arrive in any pieces.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/precheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct verdict {
	enum pkid_http_pc_rc rc;	/* last result */
	int status;			/* status of a refusal */
	size_t used;			/* head bytes (DONE) */
};

static void
feed(const uint8_t *p, size_t n, size_t step, struct verdict *v)
{
	struct pkid_http_pc pc;
	struct pkid_err e;
	size_t off = 0, k, used;

	memset(v, 0, sizeof(*v));
	pkid_err_clear(&e);
	pkid_http_pc_init(&pc, 512, 1024, 4096);
	v->rc = PKID_HTTP_PC_MORE;
	while (off < n && v->rc == PKID_HTTP_PC_MORE) {
		k = step == 0 || n - off < step ? n - off : step;
		v->rc = pkid_http_pc_feed(&pc, p + off, k, &used, &v->status,
		    &e);
		if (v->rc == PKID_HTTP_PC_DONE)
			v->used = off + used;
		if (v->rc == PKID_HTTP_PC_FAIL && (e.code == PKID_OK ||
		    v->status < 400 || v->status > 505))
			abort();
		off += k;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verdict a, b, c;

	feed(data, size, 0, &a);
	feed(data, size, 1, &b);
	feed(data, size, size > 0 ? 1 + data[0] % 17 : 0, &c);
	if (a.rc != b.rc || a.rc != c.rc || a.status != b.status ||
	    a.status != c.status || a.used != b.used || a.used != c.used)
		abort();
	if (a.rc == PKID_HTTP_PC_DONE && (a.used == 0 || a.used > size))
		abort();
	return 0;
}
