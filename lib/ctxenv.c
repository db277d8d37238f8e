/*
 * The one writer of the CTXRUN_* variables COMMAND and the hook inherit:
 * the context's level, the attempt, and the hook's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "sup.h"

/* NAME=value in the environment, from a string of ours: setenv keeps every
 * value it was ever given, which grows by one context per attempt. */
int
put_owned(char **slot, const char *name, const char *value)
{
	char *kv;

	if (asprintf(&kv, "%s=%s", name, value) == -1)
		return -1;
	if (putenv(kv) != 0) {
		free(kv);
		return -1;
	}
	free(*slot);
	*slot = kv;
	return 0;
}

/* Takes the owned variables out of the environment, and frees them. */
void
drop_owned(char **slot)
{
	char name[64];

	if (*slot == NULL)
		return;
	/* The name apart: the string itself is in the environment until
	 * unsetenv takes it out. */
	size_t n = strcspn(*slot, "=");
	snprintf(name, sizeof(name), "%.*s", (int)n, *slot);
	unsetenv(name);
	free(*slot);
	*slot = NULL;
}

/* CTXRUN_DEPTH and CTXRUN_<depth> for COMMAND; deeper levels left by some
 * earlier environment are dropped. */
int
export_context(struct sup *s)
{
	const struct ctx *c = s->r->ctx;
	size_t depth = ctx_depth(c);
	char name[32], num[24], *enc;

	for (size_t i = depth + 1; i <= depth + 64; i++) {
		snprintf(name, sizeof(name), "CTXRUN_%zu", i);
		if (getenv(name) == NULL)
			break;
		unsetenv(name);
	}
	snprintf(name, sizeof(name), "CTXRUN_%zu", depth);
	snprintf(num, sizeof(num), "%zu", depth);
	if ((enc = ctx_encode(c, s->self, s->nest.reg.token)) == NULL)
		return -1;
	int rc = setenv("CTXRUN_DEPTH", num, 1) | put_owned(&s->att.env_ctx, name, enc);
	free(enc);
	return rc;
}

/* With retries: which attempt this is, and of how many. */
int
export_attempt(struct sup *s, unsigned n)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", s->r->ctx->attempts);
	if (setenv("CTXRUN_ATTEMPTS", num, 1) == -1)
		return -1;
	snprintf(num, sizeof(num), "%u", n);
	return put_owned(&s->att.env_attempt, "CTXRUN_ATTEMPT", num);
}

/* The hook's environment: the context as COMMAND's parent sees it (this
 * level removed: a ctxrun it runs is not nested in this context), and
 * what it is there to look at, this attempt's number included. */
void
export_hook(struct sup *s, const char *pids)
{
	const struct ctx *c = s->r->ctx;
	size_t depth = ctx_depth(c);
	char name[32], num[24];

	snprintf(name, sizeof(name), "CTXRUN_%zu", depth);
	unsetenv(name);
	if (depth > 1) {
		snprintf(name, sizeof(name), "%zu", depth - 1);
		setenv("CTXRUN_DEPTH", name, 1);
	} else
		unsetenv("CTXRUN_DEPTH");
	snprintf(num, sizeof(num), "%d", (int)s->command.pid);
	setenv("CTXRUN_COMMAND_PID", num, 1);
	setenv("CTXRUN_NAME", c->name, 1);
	setenv("CTXRUN_CAUSE", cause_names(s->out->cause)->words, 1);
	setenv("CTXRUN_TREE_PIDS", pids, 1);
}

/* Once the hook is started: ours again, for later attempts. */
void
unexport_hook(struct sup *s)
{
	unsetenv("CTXRUN_COMMAND_PID");
	unsetenv("CTXRUN_NAME");
	unsetenv("CTXRUN_CAUSE");
	unsetenv("CTXRUN_TREE_PIDS");
	(void)export_context(s);
}
