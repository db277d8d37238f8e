/* The inherited context: any bytes as environment entries (split at NUL
 * and newline) decode or are refused with a reason; what decodes, encoded
 * and decoded again, is the same context. */
#include "../../lib/internal.h"
#include "fuzz.h"

static char *
entry(const char *name, const char *val)
{
	size_t n = strlen(name) + strlen(val) + 2;
	char *e = malloc(n);
	if (e == NULL)
		abort();
	snprintf(e, n, "%s=%s", name, val);
	return e;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *env[70];
	size_t n = 0;
	struct ctx *c = NULL, *again = NULL;
	ctx_err err;

	for (char *p = s, *end; n < 68 && p < s + size; p = end + 1) {
		end = p + strcspn(p, "\n");
		*end = '\0';
		env[n++] = p;
	}
	env[n] = NULL;
	err.msg[0] = '\0';
	if (ctx_from_env(env, &c, &err) == -1) {
		PROPERTY(c == NULL && err.msg[0] != '\0', "refused without a reason");
		free(s);
		return 0;
	}
	if (c != NULL) {
		/* Re-encode every level, outermost first, and decode again. */
		size_t depth = ctx_depth(c), m = 0;
		char *renv[72], num[24];
		snprintf(num, sizeof(num), "%zu", depth);
		renv[m++] = entry("CTXRUN_DEPTH", num);
		for (const struct ctx *l = c; l != NULL; l = l->parent) {
			char var[32], *v = ctx_encode(l, l->pid, l->token);
			PROPERTY(v != NULL, "encode");
			snprintf(var, sizeof(var), "CTXRUN_%zu", ctx_depth(l));
			renv[m++] = entry(var, v);
			free(v);
		}
		/* And the innermost attempt's variables, as ctxrun exports them. */
		const struct ctx *at = c;
		while (at != NULL && at->attempts == 0)
			at = at->parent;
		if (at != NULL) {
			snprintf(num, sizeof(num), "%u", at->attempt);
			renv[m++] = entry("CTXRUN_ATTEMPT", num);
			snprintf(num, sizeof(num), "%u", at->attempts);
			renv[m++] = entry("CTXRUN_ATTEMPTS", num);
		}
		renv[m] = NULL;
		PROPERTY(ctx_from_env(renv, &again, &err) == 0 && again != NULL,
		    "re-encoded context refused: %s", err.msg);
		for (const struct ctx *a = c, *b = again; a; a = a->parent, b = b->parent) {
			PROPERTY(strcmp(a->name, b->name) == 0 && a->pid == b->pid &&
			    a->grace == b->grace && a->nvalues == b->nvalues &&
			    strcmp(a->token, b->token) == 0, "level differs");
			for (size_t i = 0; i < a->nvalues; i++)
				PROPERTY(strcmp(ctx_value(b, a->values[i].key), a->values[i].val) == 0 ||
				    ctx_value(a, a->values[i].key) != a->values[i].val,
				    "value %s differs", a->values[i].key);
		}
		for (size_t i = 0; i < m; i++)
			free(renv[i]);
		ctx_free_tree(again);
		ctx_free_tree(c);
	}
	free(s);
	return 0;
}
