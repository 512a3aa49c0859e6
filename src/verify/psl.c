/*
 * psl.c - the public suffix list (publicsuffix.org format): rules, "*."
 * wildcard rules and "!" exceptions, looked up by binary search. Used only
 * to refuse wildcards over a public suffix (CABF BR 3.2.2.6).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "verify/verify.h"

/* Most rules read from one list (the real one has about 10 000). */
#define PSL_MAX_RULES 100000

struct pkid_psl {
	char *text;	/* owned: the file, rules NUL-terminated in place */
	char **rule;	/* sorted pointers into text */
	size_t n;	/* rules */
};

void
pkid_psl_free(struct pkid_psl *p)
{
	if (p == NULL)
		return;
	free(p->text);
	free(p->rule);
	free(p);
}

static int
cmp_rule(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split text into lower-cased first words of non-comment lines. */
static enum pkid_code
psl_parse(struct pkid_psl *p, struct pkid_err *e)
{
	char *line = p->text, *next, *w;
	size_t cap = 1024;

	if ((p->rule = calloc(cap, sizeof(*p->rule))) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	for (; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || (line[0] == '/' && line[1] == '/'))
			continue;
		for (w = line; *w != '\0' && !isspace((unsigned char)*w); w++)
			*w = (char)tolower((unsigned char)*w);
		*w = '\0';
		if (p->n == cap) {
			char **nr;

			if (cap >= PSL_MAX_RULES)
				return PKID_ERR(e, PKID_E_TOO_LARGE,
				    "public suffix list has too many rules");
			nr = realloc(p->rule, 2 * cap * sizeof(*nr));
			if (nr == NULL)
				return PKID_ERR(e, PKID_E_NOMEM, "no memory");
			p->rule = nr;
			cap *= 2;
		}
		p->rule[p->n++] = line;
	}
	qsort(p->rule, p->n, sizeof(*p->rule), cmp_rule);
	return PKID_OK;
}

enum pkid_code
pkid_psl_load(const char *path, struct pkid_psl **out, struct pkid_err *e)
{
	struct pkid_buf b;
	struct pkid_psl *p = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	PKID_TRY(pkid_buf_read_file(&b, path, PKID_MAX_FILE_SIZE, e));
	PKID_CHECK((p = calloc(1, sizeof(*p))) != NULL, PKID_E_NOMEM,
	    "no memory");
	PKID_CHECK((p->text = malloc(b.len + 1)) != NULL, PKID_E_NOMEM,
	    "no memory");
	memcpy(p->text, b.p, b.len);
	p->text[b.len] = '\0';
	PKID_TRY(psl_parse(p, e));
	*out = p;
	p = NULL;
	rc = PKID_OK;
out:
	pkid_buf_free(&b);
	pkid_psl_free(p);
	return rc;
}

static int
has_rule(const struct pkid_psl *p, const char *prefix, const char *name)
{
	char key[300];
	const char *k = key;

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	return bsearch(&k, p->rule, p->n, sizeof(*p->rule), cmp_rule) != NULL;
}

int
pkid_psl_is_suffix(const struct pkid_psl *p, const char *domain)
{
	const char *parent = strchr(domain, '.');

	if (has_rule(p, "!", domain))
		return 0;
	if (has_rule(p, "", domain))
		return 1;
	if (parent != NULL && has_rule(p, "*.", parent + 1))
		return 1;
	/* The implicit "*" rule: every top-level label is a suffix. */
	return parent == NULL;
}
