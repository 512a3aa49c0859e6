/*
 * pub.c - the URLs under which pkid publishes each CA generation's CRL
 * and certificate, as the certificates it issues name them.
 *
 * One scheme for every URL, from the generation-1 URL of the issuing CA
 * (pkid_config_pub_url): a suffix goes before the extension of its last
 * path segment, "-root" for the root and "-N" for generation N > 1:
 *
 *   /crl/NAME.crl        issuing CA, generation 1 (the root with
 *   /crl/NAME-3.crl      issuing CA, generation 3  --root-only)
 *   /crl/NAME-root.crl   root, generation 1
 *   /crl/NAME-root-2.crl root, generation 2
 *
 * and the same for /ca/NAME.cer (DER certificates, RFC 5280 4.2.2.1).
 */
#include <stdio.h>
#include <string.h>

#include "ca/ca.h"
#include "core/clock.h"

const char *
pkid_ca_pub_url(const struct pkid_config *cfg, enum pkid_pub_kind kind,
    int root, int generation, char *buf, size_t len)
{
	char base[PKID_RA_CRL_MAX_URL + 1], suffix[32];
	const char *slash, *dot;
	size_t at;

	if (!pkid_config_pub_url(cfg, kind, base, sizeof(base), NULL))
		return NULL;
	snprintf(suffix, sizeof(suffix), "%s", root ? "-root" : "");
	if (generation > 1)
		snprintf(suffix + strlen(suffix), sizeof(suffix) -
		    strlen(suffix), "-%d", generation);
	slash = strrchr(base, '/');
	dot = strrchr(base, '.');
	at = dot != NULL && slash != NULL && dot > slash + 1 ?
	    (size_t)(dot - base) : strlen(base);
	if ((size_t)snprintf(buf, len, "%.*s%s%s", (int)at, base, suffix,
	    base + at) >= len)
		return NULL;
	return buf;
}

int
pkid_ca_pub_path(const char *name, const char *path, const char *dir,
    const char *ext, int *root, int *generation)
{
	size_t n = strlen(name), d = strlen(dir), k;
	const char *p;
	char num[16];
	int64_t g;

	*root = 0;
	*generation = 0;
	if (strncmp(path, dir, d) != 0 || strncmp(path + d, name, n) != 0)
		return 0;
	p = path + d + n;
	if (strncmp(p, "-root", 5) == 0 && (p[5] == '-' || p[5] == '.')) {
		*root = 1;
		p += 5;
	}
	if (strcmp(p, ext) == 0) {
		*generation = 1;
		return 1;
	}
	if (p[0] != '-' || (k = strspn(p + 1, "0123456789")) == 0 ||
	    k >= sizeof(num) || strcmp(p + 1 + k, ext) != 0)
		return 0;
	memcpy(num, p + 1, k);
	num[k] = '\0';
	if (pkid_parse_int(num, 1, 1000000, &g, NULL) != PKID_OK)
		return 0;
	*generation = (int)g;
	return 1;
}
