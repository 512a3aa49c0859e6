/*
 * hook.c - an identity's hook: a command run after a renewal or a trust
 * update (reload a web server, restart a VPN), bounded in time.
 *
 * It runs as /bin/sh -c HOOK in a process group of its own, standard
 * input from /dev/null, with the identity in its environment:
 *   PKID_AGENT_EVENT     renewed | trust-updated
 *   PKID_AGENT_IDENTITY  the NAME of [identity NAME]
 *   PKID_AGENT_CERT, PKID_AGENT_KEY, PKID_AGENT_CHAIN, PKID_AGENT_TRUST
 *                        the paths of the configuration ("" for none)
 * Past the time limit the group gets SIGTERM, then SIGKILL a second later.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "core/log.h"

/* The child's side: environment, stdin, exec; never returns. */
static void
child(const struct pkid_agent_id *id, const char *event)
{
	sigset_t none;
	int fd;

	(void)setpgid(0, 0);
	/* What pkictl ignores or blocks is not the hook's business. */
	(void)signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		if (fd != STDIN_FILENO)
			close(fd);
	}
	if (setenv("PKID_AGENT_EVENT", event, 1) != 0 ||
	    setenv("PKID_AGENT_IDENTITY", id->name, 1) != 0 ||
	    setenv("PKID_AGENT_CERT", id->cert, 1) != 0 ||
	    setenv("PKID_AGENT_KEY", id->key, 1) != 0 ||
	    setenv("PKID_AGENT_CHAIN", id->chain, 1) != 0 ||
	    setenv("PKID_AGENT_TRUST", id->trust, 1) != 0)
		_exit(126);
	execl("/bin/sh", "sh", "-c", id->hook, (char *)NULL);
	_exit(127);
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Wait for pid up to ms milliseconds: 1 with *st when it ended. */
static int
wait_for(pid_t pid, long ms, int *st)
{
	long waited;
	pid_t r;

	for (waited = 0; waited <= ms; waited += PKID_AGENT_HOOK_POLL_MS) {
		r = waitpid(pid, st, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1;	/* gone (reaped elsewhere) */
		pause_ms(PKID_AGENT_HOOK_POLL_MS);
	}
	return 0;
}

int
pkid_agent_hook_run(const struct pkid_agent_id *id, const char *event,
    int timeout_s)
{
	pid_t pid;
	int st = 0;

	if (id->hook[0] == '\0')
		return 0;
	if ((pid = fork()) < 0) {
		pkid_log(PKID_LOG_WARN, "agent: identity %s: hook not run: "
		    "fork: %s", id->name, strerror(errno));
		return -1;
	}
	if (pid == 0)
		child(id, event);
	(void)setpgid(pid, pid);	/* whichever of the two runs first */
	if (!wait_for(pid, (long)timeout_s * 1000, &st)) {
		(void)kill(-pid, SIGTERM);
		if (!wait_for(pid, 1000, &st)) {
			(void)kill(-pid, SIGKILL);
			(void)waitpid(pid, &st, 0);
		}
		pkid_log(PKID_LOG_WARN, "agent: identity %s: hook (%s) killed "
		    "after %d s ([agent] hook_timeout)", id->name, event,
		    timeout_s);
		return -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		pkid_log(PKID_LOG_INFO, "agent: identity %s: hook (%s) done",
		    id->name, event);
		return 0;
	}
	if (WIFEXITED(st))
		pkid_log(PKID_LOG_WARN, "agent: identity %s: hook (%s) exited "
		    "%d%s", id->name, event, WEXITSTATUS(st),
		    WEXITSTATUS(st) == 127 ? " (command not found)" : "");
	else
		pkid_log(PKID_LOG_WARN, "agent: identity %s: hook (%s) ended "
		    "by signal %d", id->name, event, WIFSIGNALED(st) ?
		    WTERMSIG(st) : 0);
	return -1;
}
