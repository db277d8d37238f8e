/*
 * The inherited context: the chain CTXRUN_1 .. CTXRUN_<depth> read from
 * the environment, and the rules that make the set of CTXRUN_* variables
 * whole.  An inconsistent set (a level missing, one left over beyond the
 * depth, a depth without its levels or levels without a depth, an attempt's
 * variables missing, left over or not the innermost attempt's) is an error that names the variable: never a fresh
 * context that silently drops the enclosing deadline.
 *
 * Not context, and not checked here: CTXRUN_JOB_DEADLINE (a setting), and
 * what the --on-timeout hook is given to look at (CTXRUN_COMMAND_PID,
 * CTXRUN_NAME, CTXRUN_CAUSE, CTXRUN_TREE_PIDS).
 */
#include <stdio.h>
#include <string.h>

#include "envcodec.h"
#include "internal.h"

/* The n of a variable CTXRUN_<n> (digits only) in entry "NAME=VALUE";
 * 0 when entry is not such a variable, -1 when n is not a level's number
 * as ctxrun writes it (0, a leading zero, too many digits). */
static int
level_number(const char *entry, char *name, size_t len)
{
	const char *p = entry + 7;
	int n = 0;

	if (strncmp(entry, "CTXRUN_", 7) != 0 || *p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++)
		n = n > CTX_MAX_DEPTH ? n : n * 10 + (*p - '0');
	if (*p != '=')
		return 0;	/* CTXRUN_1X: not a level */
	snprintf(name, len, "%.*s", (int)(p - entry), entry);
	if (entry[7] == '0' || n > CTX_MAX_DEPTH)
		return -1;
	return n;
}

/* No CTXRUN_<n> beyond the depth, none malformed, none without a depth. */
static int
check_levels(char *const *envp, int depth, const char *depth_s, ctx_err *err)
{
	char name[32];

	for (char *const *e = envp; *e != NULL; e++) {
		int n = level_number(*e, name, sizeof(name));
		if (n == 0)
			continue;
		if (depth_s == NULL)
			return ctx_fail(err, "%s is set but CTXRUN_DEPTH is not: an "
			    "incomplete inherited context", name);
		if (n < 0 || n > depth)
			return ctx_fail(err, "%s is left over: CTXRUN_DEPTH is %d", name,
			    depth);
	}
	return 0;
}

/* "N" for CTXRUN_ATTEMPT and CTXRUN_ATTEMPTS: 1 to MAX_ATTEMPTS. */
static int
attempt_number(const char *s, unsigned *n)
{
	unsigned long v = 0;

	if (s == NULL || *s < '1' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (unsigned long)(*s - '0')) > MAX_ATTEMPTS)
			return -1;
	*n = (unsigned)v;
	return *s == '\0' ? 0 : -1;
}

/*
 * CTXRUN_ATTEMPT and CTXRUN_ATTEMPTS are the innermost attempt's level, and
 * are there exactly when a level is an attempt.  In the --on-timeout
 * hook's environment (CTXRUN_COMMAND_PID and CTXRUN_CAUSE set) they are
 * the hook's own attempt, whose level is not in its context.
 */
static int
check_attempt(char *const *envp, const struct ctx *chain, ctx_err *err)
{
	const char *a_s = env_get(envp, "CTXRUN_ATTEMPT"), *n_s = env_get(envp, "CTXRUN_ATTEMPTS");
	const struct ctx *level = chain;
	unsigned a = 0, n = 0;

	if (env_get(envp, "CTXRUN_COMMAND_PID") != NULL && env_get(envp, "CTXRUN_CAUSE") != NULL)
		return 0;
	while (level != NULL && level->attempts == 0)
		level = level->parent;
	if (level == NULL && a_s == NULL && n_s == NULL)
		return 0;
	if (level == NULL)
		return ctx_fail(err, "%s is left over: no level of the context is an attempt",
		    a_s != NULL ? "CTXRUN_ATTEMPT" : "CTXRUN_ATTEMPTS");
	if (a_s == NULL || n_s == NULL)
		return ctx_fail(err, "%s is missing: the context's level %zu is attempt "
		    "%u/%u", a_s == NULL ? "CTXRUN_ATTEMPT" : "CTXRUN_ATTEMPTS",
		    ctx_depth(level), level->attempt, level->attempts);
	if (attempt_number(a_s, &a) == -1 || a != level->attempt)
		return ctx_fail(err, "CTXRUN_ATTEMPT: '%.20s' is not %u, the attempt of "
		    "the context's level %zu", a_s, level->attempt, ctx_depth(level));
	if (attempt_number(n_s, &n) == -1 || n != level->attempts)
		return ctx_fail(err, "CTXRUN_ATTEMPTS: '%.20s' is not %u, the attempts of "
		    "the context's level %zu", n_s, level->attempts, ctx_depth(level));
	return 0;
}

static int
read_depth(const char *depth_s, int *depth, ctx_err *err)
{
	*depth = 0;
	if (depth_s == NULL)
		return 0;
	for (const char *p = depth_s; *p; p++) {
		if (*p < '0' || *p > '9' || *depth > CTX_MAX_DEPTH)
			break;
		*depth = *depth * 10 + (*p - '0');
	}
	if (depth_s[0] == '0' || depth_s[strspn(depth_s, "0123456789")] != '\0' ||
	    *depth < 1 || *depth > CTX_MAX_DEPTH)
		return ctx_fail(err, "CTXRUN_DEPTH: '%.20s' is not a depth from 1 to %d",
		    depth_s, CTX_MAX_DEPTH);
	return 0;
}

int
ctx_from_env(char *const *envp, struct ctx **out, ctx_err *err)
{
	const char *depth_s = env_get(envp, "CTXRUN_DEPTH");
	struct ctx *chain = NULL, *last = NULL;
	int depth;

	*out = NULL;
	if (read_depth(depth_s, &depth, err) == -1 ||
	    check_levels(envp, depth, depth_s, err) == -1)
		return -1;
	for (int i = 1; i <= depth; i++) {
		char var[24];
		snprintf(var, sizeof(var), "CTXRUN_%d", i);
		const char *s = env_get(envp, var);
		struct ctx *c = ctx_new(last, "");
		if (c == NULL) {
			ctx_free(chain);
			return ctx_fail(err, "out of memory");
		}
		if (chain == NULL)
			chain = c;
		last = c;
		if (s == NULL) {
			ctx_free(chain);
			return ctx_fail(err, "%s is missing (CTXRUN_DEPTH is %d)", var, depth);
		}
		if (decode_level(var, s, c, err) == -1) {
			ctx_free(chain);
			return -1;
		}
	}
	if (check_attempt(envp, last, err) == -1) {
		ctx_free(chain);
		return -1;
	}
	*out = last;
	return 0;
}
