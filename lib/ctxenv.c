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

#include "ctxrun.h"
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
