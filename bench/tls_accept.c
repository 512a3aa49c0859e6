/*
 * tls_accept.c - the bare-TLS baseline for benchmarks: a minimal OpenSSL
 * accept loop (blocking, one thread per core) that completes a handshake,
 * reads one HTTP request and answers "200 ok" with Connection: close.
 * Same certificate and TLS versions as pkid. Runs until killed.
 *
 * usage: tls_accept --port N --cert CHAIN.pem --key KEY.pem [--threads N]
 *                   [--client-ca CA.pem]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/clock.h"
#include "core/err.h"

struct srv {
	SSL_CTX *ctx;	/* shared context */
	int fd;		/* listening socket */
};

static int
accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

static void
serve_one(SSL_CTX *ctx, int c)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: "
	    "text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
	char buf[8192];
	size_t have = 0;
	int n, one = 1;
	SSL *ssl = SSL_new(ctx);

	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ssl == NULL)
		goto out;
	SSL_set_fd(ssl, c);
	if (SSL_accept(ssl) != 1)
		goto out;
	while (have < sizeof(buf) - 1) {
		n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));
		if (n <= 0)
			goto out;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	SSL_write(ssl, resp, (int)sizeof(resp) - 1);
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	ERR_clear_error();
	close(c);
}

static void *
worker(void *arg)
{
	struct srv *s = arg;
	int c;

	for (;;) {
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(s->ctx, c);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL, *cca = NULL;
	struct sockaddr_in a;
	struct srv s;
	pthread_t th[64];
	int64_t port = 0, threads = 2;
	int i, one = 1;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0)
			pkid_parse_int(argv[i + 1], 0, 65535, &port, NULL);
		else if (strcmp(argv[i], "--threads") == 0)
			pkid_parse_int(argv[i + 1], 1, 64, &threads, NULL);
		else if (strcmp(argv[i], "--cert") == 0)
			cert = argv[i + 1];
		else if (strcmp(argv[i], "--key") == 0)
			key = argv[i + 1];
		else if (strcmp(argv[i], "--client-ca") == 0)
			cca = argv[i + 1];
	}
	if (cert == NULL || key == NULL) {
		fprintf(stderr, "usage: tls_accept --port N --cert F --key F "
		    "[--threads N] [--client-ca F]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	s.ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_min_proto_version(s.ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(s.ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(s.ctx, key, SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "tls_accept: cannot load %s / %s\n", cert, key);
		return 1;
	}
	if (cca != NULL) {
		/* Like pkid asking for client certificates: verify the chain
		 * against cca in every handshake. */
		SSL_CTX_load_verify_locations(s.ctx, cca, NULL);
		SSL_CTX_set_verify(s.ctx, SSL_VERIFY_PEER, accept_any);
	}
	s.fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s.fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(s.fd, 1024) != 0) {
		perror("tls_accept: bind");
		return 1;
	}
	{
		socklen_t l = sizeof(a);

		getsockname(s.fd, (struct sockaddr *)&a, &l);
		printf("tls_accept: port %d\n", ntohs(a.sin_port));
		fflush(stdout);
	}
	for (i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &s);
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return 0;
}
