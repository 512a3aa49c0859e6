/*
 * buf_test.c - bounded buffers, base64, the read cursor, durable files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"

static void
test_append_within_max(void **state)
{
	struct pkid_buf b;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	pkid_buf_init(&b, 10);
	assert_int_equal(pkid_buf_append(&b, "", 0, &e), PKID_OK);
	assert_int_equal(b.len, 0);
	assert_int_equal(pkid_buf_append(&b, "hello", 5, &e), PKID_OK);
	assert_int_equal(pkid_buf_append(&b, "world", 5, &e), PKID_OK);
	assert_int_equal(b.len, 10);
	assert_string_equal((char *)b.p, "helloworld");
	assert_true(b.cap > b.len);
	pkid_buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	pkid_buf_free(&b);
	pkid_buf_free(NULL);
}

static void
test_overfill(void **state)
{
	struct pkid_buf b;
	struct pkid_err e;

	(void)state;
	pkid_err_clear(&e);
	pkid_buf_init(&b, 8);
	assert_int_equal(pkid_buf_append(&b, "12345678", 8, &e), PKID_OK);
	/* one byte past the max fails and leaves the buffer intact */
	assert_int_equal(pkid_buf_append(&b, "9", 1, &e), PKID_E_TOO_LARGE);
	assert_int_equal(e.code, PKID_E_TOO_LARGE);
	assert_int_equal(b.len, 8);
	assert_string_equal((char *)b.p, "12345678");
	pkid_err_clear(&e);
	assert_int_equal(pkid_buf_printf(&b, &e, "%d", 1), PKID_E_TOO_LARGE);
	assert_int_equal(b.len, 8);
	/* a huge n must not wrap around the check */
	pkid_err_clear(&e);
	assert_int_equal(pkid_buf_append(&b, "x", SIZE_MAX, &e),
	    PKID_E_TOO_LARGE);
	pkid_buf_free(&b);
}

static void
test_printf_grows(void **state)
{
	struct pkid_buf b;
	struct pkid_err e;
	int i;

	(void)state;
	pkid_err_clear(&e);
	pkid_buf_init(&b, 100000);
	for (i = 0; i < 1000; i++)
		assert_int_equal(pkid_buf_printf(&b, &e, "%04d,", i), PKID_OK);
	assert_int_equal(b.len, 5000);
	assert_memory_equal(b.p + 4995, "0999,", 5);
	assert_int_equal(b.p[b.len], '\0');
	pkid_buf_free(&b);
}

static void
decode_ok(const char *in, const char *want)
{
	struct pkid_buf out;
	struct pkid_err e;

	pkid_err_clear(&e);
	if (pkid_base64_decode(in, strlen(in), &out, 1024, &e) != PKID_OK)
		fail_msg("'%s' does not decode: %s", in, e.detail);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.p, want, out.len);
	pkid_buf_free(&out);
}

static void
decode_bad(const char *in, size_t max, enum pkid_code want)
{
	struct pkid_buf out;
	struct pkid_err e;

	pkid_err_clear(&e);
	if (pkid_base64_decode(in, strlen(in), &out, max, &e) != want) {
		pkid_buf_free(&out);
		fail_msg("'%s': want %s, got %s", in, pkid_err_id(want),
		    pkid_err_id(e.code));
	}
	assert_int_equal(e.code, want);
	assert_null(out.p);
}

static void
test_base64_decode(void **state)
{
	(void)state;
	decode_ok("aGVsbG8=", "hello");
	decode_ok("aGVsbG8gd29ybGQ=", "hello world");
	decode_ok("YQ==", "a");
	/* wrapped and surrounded by white space, as in MIME and EST */
	decode_ok("aGVs\nbG8g\r\nd29y\nbGQ=\n", "hello world");
	decode_ok("  aGVsbG8=  \n", "hello");
	decode_bad("", 1024, PKID_E_BASE64_BAD);
	decode_bad("\n\n", 1024, PKID_E_BASE64_BAD);
	decode_bad("a$b=", 1024, PKID_E_BASE64_BAD);
	decode_bad("aGVsbG8", 1024, PKID_E_BASE64_BAD);
	/* URL-safe alphabet; and OpenSSL's decoder alone would stop at '-'
	 * and return the bytes before it */
	decode_bad("aGVs-G8_", 1024, PKID_E_BASE64_BAD);
	decode_bad("aGVsbG8=-garbage", 1024, PKID_E_BASE64_BAD);
	decode_bad("aGVs\n-----END X-----\n", 1024, PKID_E_BASE64_BAD);
	decode_bad("aGVsbG8=aGVs", 1024, PKID_E_BASE64_BAD);
	/* bounded output */
	decode_bad("aGVsbG8gd29ybGQ=", 4, PKID_E_TOO_LARGE);
}

static void
test_base64_roundtrip(void **state)
{
	struct pkid_buf enc, dec;
	struct pkid_err e;
	uint8_t data[300];
	size_t n, i;
	int wrap;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (wrap = 0; wrap <= 1; wrap++) {
		for (n = 0; n <= sizeof(data); n += 37) {
			pkid_err_clear(&e);
			assert_int_equal(pkid_base64_encode(data, n, wrap, &enc,
			    &e), PKID_OK);
			assert_non_null(enc.p);
			assert_int_equal(strlen((char *)enc.p), enc.len);
			if (!wrap)
				assert_null(strchr((char *)enc.p, '\n'));
			if (wrap && n > 48)
				assert_int_equal(
				    strchr((char *)enc.p, '\n') -
				    (char *)enc.p, 64);
			if (n == 0) {
				assert_int_equal(enc.len, 0);
				pkid_buf_free(&enc);
				continue;
			}
			assert_int_equal(pkid_base64_decode((char *)enc.p,
			    enc.len, &dec, n, &e), PKID_OK);
			assert_int_equal(dec.len, n);
			assert_memory_equal(dec.p, data, n);
			pkid_buf_free(&enc);
			pkid_buf_free(&dec);
		}
	}
}

static void
test_cursor(void **state)
{
	static const uint8_t in[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	    0x07 };
	struct pkid_cbs c;
	const uint8_t *p;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	(void)state;
	pkid_cbs_init(&c, in, sizeof(in));
	assert_true(pkid_cbs_get_u8(&c, &u8));
	assert_int_equal(u8, 0x01);
	assert_true(pkid_cbs_get_u16(&c, &u16));
	assert_int_equal(u16, 0x0203);
	assert_true(pkid_cbs_get_u32(&c, &u32));
	assert_int_equal(u32, 0x04050607);
	assert_int_equal(c.len, 0);
	/* every read past the end fails and leaves the cursor alone */
	assert_false(pkid_cbs_get_u8(&c, &u8));
	assert_false(pkid_cbs_get_bytes(&c, &p, 1));
	assert_true(pkid_cbs_get_bytes(&c, &p, 0));

	pkid_cbs_init(&c, in, 3);
	assert_false(pkid_cbs_get_u32(&c, &u32));
	assert_int_equal(c.len, 3);
	assert_ptr_equal(c.p, in);
	assert_true(pkid_cbs_get_u16(&c, &u16));
	assert_false(pkid_cbs_get_u16(&c, &u16));
	assert_int_equal(c.len, 1);
	assert_false(pkid_cbs_get_bytes(&c, &p, SIZE_MAX));
	assert_true(pkid_cbs_get_bytes(&c, &p, 1));
	assert_int_equal(p[0], 0x03);

	pkid_cbs_init(&c, NULL, 0);
	assert_false(pkid_cbs_get_u8(&c, &u8));
}

static void
test_hex(void **state)
{
	static const uint8_t in[] = { 0x00, 0xab, 0x7f, 0xff };
	char out[9];

	(void)state;
	pkid_hex(in, sizeof(in), out);
	assert_string_equal(out, "00ab7fff");
	pkid_hex(in, 0, out);
	assert_string_equal(out, "");
}

static void
test_file_write_read(void **state)
{
	char dir[] = "/tmp/pkid-buf-test-XXXXXX", path[256], bad[300];
	struct pkid_buf b;
	struct pkid_err e;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f.txt", dir);
	pkid_err_clear(&e);
	assert_int_equal(pkid_file_write(path, "first", 5, 0600, &e),
	    PKID_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* overwrite atomically */
	assert_int_equal(pkid_file_write(path, "second\n", 7, 0600, &e),
	    PKID_OK);
	assert_int_equal(pkid_buf_read_file(&b, path, 100, &e), PKID_OK);
	assert_int_equal(b.len, 7);
	assert_string_equal((char *)b.p, "second\n");
	pkid_buf_free(&b);
	/* the limit applies while reading */
	assert_int_equal(pkid_buf_read_file(&b, path, 6, &e),
	    PKID_E_TOO_LARGE);
	assert_null(b.p);
	/* an empty file reads as an empty, terminated buffer */
	pkid_err_clear(&e);
	assert_int_equal(pkid_file_write(path, "", 0, 0600, &e), PKID_OK);
	assert_int_equal(pkid_buf_read_file(&b, path, 100, &e), PKID_OK);
	assert_int_equal(b.len, 0);
	assert_non_null(b.p);
	assert_int_equal(b.p[0], '\0');
	pkid_buf_free(&b);
	/* errors name the file */
	snprintf(bad, sizeof(bad), "%s/missing/f.txt", dir);
	pkid_err_clear(&e);
	assert_int_equal(pkid_buf_read_file(&b, bad, 100, &e),
	    PKID_E_IO_OPEN);
	assert_non_null(strstr(e.detail, "missing"));
	pkid_err_clear(&e);
	assert_int_equal(pkid_file_write(bad, "x", 1, 0600, &e),
	    PKID_E_IO_WRITE);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_within_max),
		cmocka_unit_test(test_overfill),
		cmocka_unit_test(test_printf_grows),
		cmocka_unit_test(test_base64_decode),
		cmocka_unit_test(test_base64_roundtrip),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_file_write_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
