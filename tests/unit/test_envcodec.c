/* The context in the environment: round trips and malformed input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../../lib/internal.h"
#include "../../lib/envcodec.h"
#include "unit.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

static const char *malformed[][3] = {
	{ "CTXRUN_DEPTH=x", NULL },
	{ "CTXRUN_DEPTH=0", NULL },
	{ "CTXRUN_DEPTH=65", NULL },
	{ "CTXRUN_DEPTH=", NULL },
	{ "CTXRUN_DEPTH=1", NULL },
	{ "CTXRUN_DEPTH=2", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN, NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=0 token=" TOKEN " grace=1", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=xyz grace=1", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=-1", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 extra=1", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 ", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a  pid=1 token=" TOKEN " grace=1", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 deadline=5", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a%zz pid=1 token=" TOKEN " grace=1", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a%00 pid=1 token=" TOKEN " grace=1", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 pid=2 token=" TOKEN " grace=1", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 v.1A=x", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 v.A=1 v.A=2", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 v.A=a b", NULL },
	/* attempt=K/N: 1 <= K <= N <= 1000000, once. */
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 attempt=0/3", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 attempt=4/3", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 attempt=1/1000001", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 attempt=1", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 attempt=/3", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 attempt=1/", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 attempt=1/2 attempt=1/2", NULL },
	/* hook=SECS: the hook's limit, once, not negative. */
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 hook=-1", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 hook=1 hook=2", NULL },
	{ "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 hook=x", NULL },
};

#define LEVEL "name=a pid=1 token=" TOKEN " grace=1"

/* A whole context of three levels, the second an attempt. */
static const char *const whole[] = {
	"CTXRUN_DEPTH=3",
	"CTXRUN_1=" LEVEL,
	"CTXRUN_2=" LEVEL " attempt=2/4",
	"CTXRUN_3=" LEVEL,
	"CTXRUN_ATTEMPT=2",
	"CTXRUN_ATTEMPTS=4",
};
#define NWHOLE (sizeof(whole) / sizeof(whole[0]))

/* whole, with entry `drop` left out (NWHOLE: none) and `add` added (NULL:
 * none), and what not being context changes nothing: -1 or 0, and err. */
static int
decode_variant(size_t drop, const char *add, ctx_err *err)
{
	const char *env[NWHOLE + 8];
	size_t n = 0;
	struct ctx *got = NULL;

	env[n++] = "PATH=/bin";
	env[n++] = "CTXRUN_JOB_DEADLINE=1m";
	env[n++] = "CTXRUN_NAME=hook";
	env[n++] = "CTXRUN_TREE_PIDS=1 2";
	for (size_t i = 0; i < NWHOLE; i++)
		if (i != drop)
			env[n++] = whole[i];
	if (add != NULL)
		env[n++] = add;
	env[n] = NULL;
	err->msg[0] = '\0';
	int rc = ctx_from_env((char **)env, &got, err);
	CHECK(rc == -1 ? got == NULL && err->msg[0] != '\0' : got != NULL,
	    "result and message disagree: %d '%s'", rc, err->msg);
	ctx_free_tree(got);
	return rc;
}

/* One missing, one left over, a gap, a depth that disagrees: each an
 * error that names the variable. */
static void
incomplete_contexts(void)
{
	ctx_err err;

	CHECK(decode_variant(NWHOLE, NULL, &err) == 0, "the whole refused: %s", err.msg);
	for (size_t i = 0; i < NWHOLE; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(whole[i], "="), whole[i]);
		CHECK(decode_variant(i, NULL, &err) == -1, "without %s: accepted", name);
		/* Without the depth, the first level is what is left over. */
		const char *named = i == 0 ? "CTXRUN_1" : name;
		CHECK(strstr(err.msg, named) != NULL, "without %s: '%s' names not %s",
		    name, err.msg, named);
	}
	static const char *const extra[] = {
		"CTXRUN_4=" LEVEL, "CTXRUN_9=" LEVEL, "CTXRUN_0=" LEVEL,
		"CTXRUN_03=" LEVEL, "CTXRUN_65=x", "CTXRUN_99999999999=x",
	};
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(extra[i], "="), extra[i]);
		CHECK(decode_variant(NWHOLE, extra[i], &err) == -1, "with %s: accepted", name);
		CHECK(strstr(err.msg, name) != NULL, "with %s: '%s'", name, err.msg);
	}
	/* Renumbered: level 3 as 4 (a gap), the depth one off either way. */
	CHECK(decode_variant(3, "CTXRUN_4=" LEVEL, &err) == -1 &&
	    strstr(err.msg, "CTXRUN_") != NULL, "a gap accepted: %s", err.msg);
	CHECK(decode_variant(0, "CTXRUN_DEPTH=2", &err) == -1 &&
	    strstr(err.msg, "CTXRUN_3") != NULL, "depth 2 of 3: %s", err.msg);
	CHECK(decode_variant(0, "CTXRUN_DEPTH=4", &err) == -1 &&
	    strstr(err.msg, "CTXRUN_4") != NULL, "depth 4 of 3: %s", err.msg);
	CHECK(decode_variant(0, "CTXRUN_DEPTH=03", &err) == -1 &&
	    strstr(err.msg, "CTXRUN_DEPTH") != NULL, "depth 03: %s", err.msg);
	/* The attempt variables say the innermost attempt's level. */
	CHECK(decode_variant(4, "CTXRUN_ATTEMPT=3", &err) == -1 &&
	    strstr(err.msg, "CTXRUN_ATTEMPT") != NULL, "attempt 3 of level 2/4: %s", err.msg);
	CHECK(decode_variant(5, "CTXRUN_ATTEMPTS=5", &err) == -1 &&
	    strstr(err.msg, "CTXRUN_ATTEMPTS") != NULL, "attempts 5 of 2/4: %s", err.msg);
	CHECK(decode_variant(4, "CTXRUN_ATTEMPT=0", &err) == -1, "attempt 0");
	CHECK(decode_variant(5, "CTXRUN_ATTEMPTS=4x", &err) == -1, "attempts 4x");
	/* Not levels: a name with more than digits is not the context's. */
	CHECK(decode_variant(NWHOLE, "CTXRUN_1X=x", &err) == 0, "CTXRUN_1X: %s", err.msg);

	/* Attempt variables with no level that is an attempt: left over;
	 * in the hook's environment, the hook's own. */
	char *lone[] = { "CTXRUN_DEPTH=1", "CTXRUN_1=" LEVEL, "CTXRUN_ATTEMPT=1",
	    "CTXRUN_ATTEMPTS=2", NULL };
	struct ctx *got = NULL;
	CHECK(ctx_from_env(lone, &got, &err) == -1 && strstr(err.msg, "CTXRUN_ATTEMPT"),
	    "attempt without its level: %s", err.msg);
	char *bare[] = { "CTXRUN_ATTEMPT=1", NULL };
	CHECK(ctx_from_env(bare, &got, &err) == -1 && strstr(err.msg, "CTXRUN_ATTEMPT"),
	    "attempt without a context: %s", err.msg);
	char *hook[] = { "CTXRUN_DEPTH=1", "CTXRUN_1=" LEVEL, "CTXRUN_ATTEMPT=1",
	    "CTXRUN_ATTEMPTS=2", "CTXRUN_COMMAND_PID=5", "CTXRUN_CAUSE=deadline exceeded",
	    NULL };
	CHECK(ctx_from_env(hook, &got, &err) == 0, "the hook's attempt: %s", err.msg);
	ctx_free_tree(got);
}

int
main(void)
{
	struct ctx *root = ctx_new(NULL, "outer name with spaces=%&\n");
	struct ctx *leaf = ctx_new(root, "inner");
	char all[256], *env[6], *e1, *e2;
	struct ctx *got;
	ctx_err err;

	for (int i = 0; i < 255; i++)
		all[i] = (char)(i + 1);	/* every byte but NUL */
	all[255] = '\0';
	ctx_set_value(root, "ALL", all);
	ctx_set_value(root, "SHADOWED", "outer");
	ctx_set_value(leaf, "SHADOWED", "inner");
	ctx_set_value(leaf, "EMPTY", "");
	root->deadline = mono_now() + 60 * NS_PER_SEC;
	root->grace = 3 * NS_PER_SEC + 5;
	leaf->grace = NS_PER_SEC;
	leaf->attempt = 2;
	leaf->attempts = 5;
	root->hook_limit = NS_PER_SEC / 2 + 7;
	/* Every field at once (found truncated by an adversarial tester). */
	leaf->hook_limit = 123 * NS_PER_SEC + 456789;

	e1 = ctx_encode(root, 111, TOKEN);
	e2 = ctx_encode(leaf, 222, TOKEN);
	CHECK(e1 && e2, "encode");
	CHECK(strchr(e1, '\n') == NULL && strchr(e1, '=') != NULL, "one line");
	env[0] = "CTXRUN_DEPTH=2";
	CHECK(asprintf(&env[1], "CTXRUN_1=%s", e1) > 0, "asprintf");
	CHECK(asprintf(&env[2], "CTXRUN_2=%s", e2) > 0, "asprintf");
	env[3] = "CTXRUN_ATTEMPT=2";
	env[4] = "CTXRUN_ATTEMPTS=5";
	env[5] = NULL;
	CHECK(ctx_from_env(env, &got, &err) == 0 && got != NULL, "decode: %s", err.msg);
	if (got != NULL) {
		CHECK(strcmp(got->name, "inner") == 0, "name");
		CHECK(strcmp(got->parent->name, root->name) == 0, "odd name survives");
		CHECK(got->pid == 222 && got->parent->pid == 111, "pids");
		CHECK(got->attempt == 2 && got->attempts == 5 && got->parent->attempts == 0,
		    "attempt %u/%u", got->attempt, got->attempts);
		CHECK(strcmp(got->token, TOKEN) == 0, "token");
		CHECK(got->grace == NS_PER_SEC && got->parent->grace == root->grace, "grace");
		CHECK(got->parent->hook_limit == root->hook_limit &&
		    got->hook_limit == leaf->hook_limit,
		    "hook %lld", (long long)got->parent->hook_limit);
		CHECK(strcmp(ctx_value(got, "ALL"), all) == 0, "every byte but NUL survives");
		CHECK(strcmp(ctx_value(got, "SHADOWED"), "inner") == 0, "shadowing");
		CHECK(strcmp(ctx_value(got->parent, "SHADOWED"), "outer") == 0, "outer kept");
		CHECK(strcmp(ctx_value(got, "EMPTY"), "") == 0, "empty value");
		/* Same boot: the monotonic deadline comes back exactly. */
		CHECK(ctx_deadline(got) == root->deadline, "deadline %lld vs %lld",
		    (long long)ctx_deadline(got), (long long)root->deadline);
		ctx_free_tree(got);
	}

	/* Another boot: the wall-clock deadline is used instead. */
	char *other = strdup(env[1]), *b = strstr(other, "boot=");
	CHECK(b != NULL, "boot field present");
	if (b != NULL) {
		b[5] = b[5] == '0' ? '1' : '0';
		char *env2[] = { "CTXRUN_DEPTH=1", other, NULL };
		CHECK(ctx_from_env(env2, &got, &err) == 0, "decode other boot: %s", err.msg);
		int64_t diff = got ? ctx_deadline(got) - root->deadline : 0;
		CHECK(got && diff < NS_PER_SEC / 10 && diff > -NS_PER_SEC / 10,
		    "wall fallback close: %lld", (long long)diff);
		ctx_free_tree(got);
	}

	/* Another boot, deadline long past: decodes as "now", and a nested
	 * ctxrun can encode it again (found by fuzzing: it printed a negative
	 * monotonic time that nobody could read back). */
	{
		char *past[] = { "CTXRUN_DEPTH=1", "CTXRUN_1=name=a pid=1 token=" TOKEN
		    " grace=1 deadline=1.0 mono=5.0 boot=elsewhere", NULL };
		CHECK(ctx_from_env(past, &got, &err) == 0 && got != NULL, "past: %s", err.msg);
		CHECK(got && ctx_deadline(got) == 0, "clamped to the start of this boot");
		char *again = got ? ctx_encode(got, 1, TOKEN) : NULL, *renv[3] = { "CTXRUN_DEPTH=1", NULL, NULL };
		struct ctx *got2 = NULL;
		CHECK(again && strstr(again, "mono=0.000000000") && !strstr(again, "=-"),
		    "encoded: %s", again ? again : "");
		if (again && asprintf(&renv[1], "CTXRUN_1=%s", again) > 0) {
			CHECK(ctx_from_env(renv, &got2, &err) == 0, "re-decoded: %s", err.msg);
			free(renv[1]);
		}
		ctx_free_tree(got2);
		ctx_free_tree(got);
		free(again);
	}

	/* The monotonic clock is named by boot id and time namespace: in
	 * another time namespace (same boot id, CLOCK_MONOTONIC offset) only
	 * the wall clock is shared. */
	{
		char wallbuf[64], monobuf[64], *lvl[3] = { NULL, NULL, NULL };
		int64_t real = mono_now() + 100 * NS_PER_SEC;
		int64_t wall = wall_now() + 100 * NS_PER_SEC;
		const char *id = mono_clock_id();
		CHECK(e1 && strstr(e1, " boot=") && strstr(e1, id), "boot=%s in %s", id, e1);
		CHECK(strchr(id, '+') != NULL, "time namespace in '%s'", id);
		snprintf(wallbuf, sizeof(wallbuf), "%lld.%09lld", (long long)(wall / NS_PER_SEC),
		    (long long)(wall % NS_PER_SEC));
		/* mono as a time namespace 1000 s ahead would have it. */
		snprintf(monobuf, sizeof(monobuf), "%lld.0", (long long)(real / NS_PER_SEC + 1000));
		const char *boots[] = { "", "+1", "+4026531834" };
		for (size_t i = 0; i < 3; i++) {
			char *e = NULL, *env3[] = { "CTXRUN_DEPTH=1", NULL, NULL };
			CHECK(asprintf(&e, "CTXRUN_1=name=a pid=1 token=" TOKEN " grace=1 "
			    "deadline=%s mono=%s boot=%s%s", wallbuf, monobuf, boot_id(),
			    boots[i]) > 0, "asprintf");
			env3[1] = e;
			got = NULL;
			CHECK(ctx_from_env(env3, &got, &err) == 0, "decode: %s", err.msg);
			int64_t diff = got ? ctx_deadline(got) - real : 0;
			if (i == 0) {
				/* A bare boot id from an older ctxrun: trusted in the
				 * initial time namespace only. */
				CHECK(strstr(id, "+4026531834") == NULL ||
				    (diff > 998 * NS_PER_SEC && diff <= 1000 * NS_PER_SEC), "old format: %lld", (long long)diff);
			} else if (strcmp(strchr(id, '+'), boots[i]) != 0)
				CHECK(diff < NS_PER_SEC / 10 && diff > -NS_PER_SEC / 10,
				    "other time namespace %s: wall clock, off by %lld",
				    boots[i], (long long)diff);
			ctx_free_tree(got);
			free(e);
		}
		/* Two levels with the same deadline from the wall clock (another
		 * boot): the same instant, credited to the outermost. */
		for (int i = 0; i < 2; i++)
			CHECK(asprintf(&lvl[i], "CTXRUN_%d=name=l%d pid=1 token=" TOKEN
			    " grace=1 deadline=%s mono=1.0 boot=elsewhere", i + 1, i + 1,
			    wallbuf) > 0, "asprintf");
		char *env4[] = { "CTXRUN_DEPTH=2", lvl[0], lvl[1], NULL };
		CHECK(ctx_from_env(env4, &got, &err) == 0 && got, "decode: %s", err.msg);
		if (got) {
			CHECK(got->deadline == got->parent->deadline, "one conversion");
			CHECK(strcmp(ctx_deadline_owner(got)->name, "l1") == 0, "owner %s",
			    ctx_deadline_owner(got)->name);
		}
		ctx_free_tree(got);
		free(lvl[0]);
		free(lvl[1]);
	}

	/* What ctx_from_env refuses, ctx_env_check refuses first. */
	{
		char *argv[] = { "true", NULL }, *envp[] = { "PATH=/bin", NULL };
		struct ctx *top = NULL, *c = NULL;
		for (int i = 1; i <= CTX_MAX_DEPTH; i++)
			top = c = ctx_new(c, "level");
		CHECK(ctx_env_check(c, 0, argv, envp, &err) == 0, "depth %d: %s",
		    CTX_MAX_DEPTH, err.msg);
		c = ctx_new(c, "one more");
		err.msg[0] = '\0';
		CHECK(ctx_env_check(c, 0, argv, envp, &err) == -1 && strstr(err.msg, "deep"),
		    "depth %d accepted", CTX_MAX_DEPTH + 1);
		ctx_free_tree(top);

		struct ctx *v = ctx_new(NULL, "v");
		char *big = malloc(CTX_ENV_STRING_MAX);
		memset(big, 'a', CTX_ENV_STRING_MAX - 200);
		big[CTX_ENV_STRING_MAX - 200] = '\0';
		ctx_set_value(v, "V", big);
		CHECK(ctx_env_check(v, 0, argv, envp, &err) == 0, "just fits: %s", err.msg);
		big[CTX_ENV_STRING_MAX / 3] = '\0';
		memset(big, '\xff', CTX_ENV_STRING_MAX / 3);
		ctx_set_value(v, "V", big);
		CHECK(ctx_env_check(v, 0, argv, envp, &err) == -1 && strstr(err.msg, "CTXRUN_1"),
		    "three bytes each: %s", err.msg);
		/* The boundary found, not assumed: the longest value that fits
		 * without retries does not with a million attempts (the last
		 * one's level is wider), and what fits with them encodes, as
		 * the last attempt, within the limit. */
		for (unsigned attempts = 0;; attempts = MAX_ATTEMPTS) {
			size_t lo = 0, hi = CTX_ENV_STRING_MAX;
			while (lo + 1 < hi) {
				size_t mid = (lo + hi) / 2;
				memset(big, 'a', mid);
				big[mid] = '\0';
				ctx_set_value(v, "V", big);
				if (ctx_env_check(v, attempts, argv, envp, &err) == 0)
					lo = mid;
				else
					hi = mid;
			}
			memset(big, 'a', lo);
			big[lo] = '\0';
			ctx_set_value(v, "V", big);
			if (attempts == 0) {
				CHECK(ctx_env_check(v, MAX_ATTEMPTS, argv, envp, &err) == -1,
				    "%zu bytes fit a million attempts too", lo);
				continue;
			}
			v->attempt = v->attempts = MAX_ATTEMPTS;
			char *last = ctx_encode(v, 4194304, TOKEN);
			CHECK(last && strlen("CTXRUN_1=") + strlen(last) + 1 <= CTX_ENV_STRING_MAX,
			    "the last attempt's level takes %zu bytes", last ? strlen(last) : 0);
			free(last);
			v->attempt = v->attempts = 0;
			break;
		}
		/* Two strings that fit one by one, not together under a small stack;
		 * an environment already too big is exec's to refuse, not ours. */
		struct rlimit old, small = { 640 * 1024, 0 };
		getrlimit(RLIMIT_STACK, &old);
		small.rlim_max = old.rlim_max;
		memset(big, 'a', 100000);
		big[100000] = '\0';
		ctx_set_value(v, "V", big);
		char *inherited = NULL, *env2[] = { "PATH=/bin", NULL, NULL };
		CHECK(asprintf(&inherited, "CTXRUN_0X=%s", big) > 0, "asprintf");
		env2[1] = inherited;
		CHECK(setrlimit(RLIMIT_STACK, &small) == 0, "setrlimit");
		CHECK(ctx_env_check(v, 0, argv, envp, &err) == 0, "alone: %s", err.msg);
		CHECK(ctx_env_check(v, 0, argv, env2, &err) == -1 && strstr(err.msg, "163840"),
		    "together: %s", err.msg);
		inherited[70000] = '\0';
		char *env3[] = { "PATH=/bin", inherited, big, NULL };
		CHECK(ctx_env_check(v, 0, argv, env3, &err) == 0, "too big already: %s", err.msg);
		setrlimit(RLIMIT_STACK, &old);
		free(inherited);
		free(big);
		ctx_free(v);
	}

	char *none[] = { "PATH=/bin", NULL };
	CHECK(ctx_from_env(none, &got, &err) == 0 && got == NULL, "no context");

	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		err.msg[0] = '\0';
		int rc = ctx_from_env((char **)malformed[i], &got, &err);
		CHECK(rc == -1 && got == NULL && err.msg[0], "malformed #%zu accepted", i);
	}

	incomplete_contexts();

	/* Percent-encoding round trip and refusals. */
	char *enc = pct_encode(all, 255), *dec = NULL;
	CHECK(pct_decode(enc, strlen(enc), &dec) == 0 && strcmp(dec, all) == 0, "pct");
	free(dec);
	CHECK(pct_decode("%4", 2, &dec) == -1, "short escape");
	CHECK(pct_decode("a b", 3, &dec) == -1, "raw space");
	free(enc);
	free(other);
	free(env[1]);
	free(env[2]);
	free(e1);
	free(e2);
	ctx_free(root);
	return unit_report("test_envcodec");
}
