/*
 * certsrv_page_fuzz.c - libFuzzer target: any bytes as the page AD CS web
 * enrollment answers a submission with (certfnsh.asp), read by
 * pkid_certsrv_parse_submit (est/certsrv.c): issued, pending, denied or
 * unknown, a request id and the CA's message, never past the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "est/certsrv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certsrv_answer a;
	char *copy;

	/* An exact-size copy, so ASan sees any read past the end. */
	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	pkid_certsrv_parse_submit(copy, size, &a);
	if (a.disp == CERTSRV_ISSUED || a.disp == CERTSRV_PENDING) {
		if (a.reqid <= 0)
			abort();
	} else if (a.reqid != 0)
		abort();
	if (strlen(a.msg) >= sizeof(a.msg))
		abort();
	free(copy);
	return 0;
}
