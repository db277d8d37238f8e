/*
 * Subcommands for scripts: read the context of the nearest enclosing ctxrun
 * from the environment, or ask it to cancel.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/ctxrun.h"
#include "cmd.h"

/* argv[1] is either absent or the one flag the subcommand takes. */
static bool
one_flag(int argc, char **argv, const char *flag)
{
	char q[512];

	if (argc > 2 || (argc == 2 && strcmp(argv[1], flag) != 0)) {
		gnu_quote(argv[argc == 2 ? 1 : 2], q, sizeof(q));
		usage_error("%s: unexpected argument %s (usage: ctxrun %s [%s])",
		    argv[0], q, argv[0], flag);
	}
	return argc == 2;
}

static struct ctx *
inherited(const char *sub)
{
	extern char **environ;
	struct ctx *c;
	ctx_err err;

	if (ctx_from_env(environ, &c, &err) == -1)
		usage_error("%s: malformed inherited context: %s", sub, err.msg);
	return c;
}

/* The deadline as an instant on the wall clock, for printing. */
static int64_t
wall_deadline(int64_t deadline)
{
	return mono_to_wall(deadline);
}

int
cmd_remaining(int argc, char **argv)
{
	bool ms = one_flag(argc, argv, "--ms");
	struct ctx *c = inherited(argv[0]);
	int64_t d = c ? ctx_deadline(c) : CTX_NEVER, left;

	ctx_free_tree(c);
	if (d == CTX_NEVER)
		return 1;
	if ((left = d - mono_now()) <= 0) {
		puts("0");
		return EXIT_CTX_DONE;
	}
	if (ms)
		printf("%" PRId64 "\n", left / NS_PER_MS);
	else
		printf("%" PRId64 ".%03" PRId64 "\n", left / NS_PER_SEC,
		    left % NS_PER_SEC / NS_PER_MS);
	return 0;
}

int
cmd_deadline(int argc, char **argv)
{
	bool epoch = one_flag(argc, argv, "--epoch");
	struct ctx *c = inherited(argv[0]);
	int64_t d = c ? ctx_deadline(c) : CTX_NEVER;
	char buf[40];

	ctx_free_tree(c);
	if (d == CTX_NEVER)
		return 1;
	d = wall_deadline(d);
	if (epoch)
		format_epoch(d, buf, sizeof(buf));
	else
		format_instant(d, buf, sizeof(buf));
	puts(buf);
	return 0;
}

int
cmd_value(int argc, char **argv)
{
	if (argc != 2)
		usage_error("value: expected one KEY (usage: ctxrun value KEY)");
	if (!is_identifier(argv[1], strlen(argv[1])))
		usage_error("value: '%s': KEY must be a shell identifier", argv[1]);
	struct ctx *c = inherited(argv[0]);
	const char *v = c ? ctx_value(c, argv[1]) : NULL;
	if (v != NULL)
		printf("%s\n", v);
	ctx_free_tree(c);
	return v != NULL ? 0 : 1;
}

/* Bytes for a one-line text listing: C-style escapes for the unprintable. */
static void
text_string(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		size_t n = utf8_len(u);
		/* Controls (C0, DEL, and C1 such as a terminal's CSI) and bytes
		 * that are not well-formed UTF-8 never go raw to a terminal. */
		bool c1 = n == 2 && u[0] == 0xc2 && u[1] < 0xa0;
		if (*u == '\n')
			fputs("\\n", stdout);
		else if (*u == '\t')
			fputs("\\t", stdout);
		else if (*u == '\\')
			fputs("\\\\", stdout);
		else if (n == 0 || *u < 0x20 || *u == 0x7f || c1) {
			n = n ? n : 1;
			for (size_t i = 0; i < n; i++)
				printf("\\x%02x", u[i]);
		} else
			fwrite(u, 1, n, stdout);
		u += n;
	}
}

static void
show_level(const struct ctx *c, size_t depth, int64_t now, struct json *j)
{
	int64_t d = ctx_deadline(c);
	int64_t l = d != CTX_NEVER && d > now ? (d - now) / NS_PER_MS : 0;
	char when[40], left[40];

	if (d != CTX_NEVER) {
		format_instant(wall_deadline(d), when, sizeof(when));
		format_duration(l * NS_PER_MS, left, sizeof(left));
	}
	if (j != NULL) {
		json_printf(j, "%s{\"depth\":%zu,\"name\":", depth > 1 ? "," : "", depth);
		json_string(j, c->name);
		json_printf(j, ",\"pid\":%d,\"deadline\":", (int)c->pid);
		if (d == CTX_NEVER)
			json_raw(j, "null,\"remaining_ms\":null");
		else
			json_printf(j, "\"%s\",\"remaining_ms\":%" PRId64, when, l);
		if (c->attempts > 0)
			json_printf(j, ",\"attempt\":%u,\"attempts\":%u", c->attempt,
			    c->attempts);
		json_raw(j, ",\"values\":{");
		for (size_t i = 0; i < c->nvalues; i++) {
			if (i > 0)
				json_raw(j, ",");
			json_string(j, c->values[i].key);
			json_raw(j, ":");
			json_string(j, c->values[i].val);
		}
		json_raw(j, "}}");
		return;
	}
	printf("%zu ", depth);
	text_string(c->name);
	if (d == CTX_NEVER)
		printf(" no-deadline");
	else
		printf(" deadline=%s left=%s", when, left);
	if (c->attempts > 0)
		printf(" attempt=%u/%u", c->attempt, c->attempts);
	for (size_t i = 0; i < c->nvalues; i++) {
		printf(" %s=", c->values[i].key);
		text_string(c->values[i].val);
	}
	putchar('\n');
}

/* Every level against the same reading of the clock. */
static void
show_chain(const struct ctx *c, int64_t now, struct json *j)
{
	if (c == NULL)
		return;
	show_chain(c->parent, now, j);
	show_level(c, ctx_depth(c), now, j);
}

int
cmd_show(int argc, char **argv)
{
	bool json = one_flag(argc, argv, "--json");
	struct ctx *c = inherited(argv[0]);
	struct json j = { 0 };

	if (json)
		json_raw(&j, "[");
	show_chain(c, mono_now(), json ? &j : NULL);
	ctx_free_tree(c);
	if (json) {
		json_raw(&j, "]");
		if (j.failed)
			usage_error("show: out of memory");
		puts(j.buf);
		json_free(&j);
	}
	return 0;
}

int
cmd_cancel(int argc, char **argv)
{
	struct ask m = { .kind = ASK_CANCEL, .status = EXIT_CTX_DONE };
	char why[ASK_TEXT_MAX];
	int sig = 0;
	const char *errstr;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--cause") == 0 && i + 1 < argc) {
			if (strlen(argv[++i]) >= sizeof(m.cause))
				usage_error("cancel: --cause: longer than %zu bytes",
				    sizeof(m.cause) - 1);
			strlcpy(m.cause, argv[i], sizeof(m.cause));
		} else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc) {
			m.status = (int)strtonum(argv[++i], 0, 255, &errstr);
			if (errstr != NULL)
				usage_error("cancel: --status: '%s' is %s (0 to 255)",
				    argv[i], errstr);
		} else {
			char q[512];
			gnu_quote(argv[i], q, sizeof(q));
			usage_error("cancel: unexpected argument %s (usage: ctxrun "
			    "cancel [--cause TEXT] [--status N])", q);
		}
	}
	struct ctx *c = inherited(argv[0]);
	if (c == NULL) {
		fprintf(stderr, "ctxrun: cancel: not inside a ctxrun\n");
		return 1;
	}
	/* Answered once the ctxrun has taken it: when this returns, the
	 * cancel comes before anything the caller does next. */
	int rc = ctxrun_ask(c->token, &m, why, &sig);
	if (rc == -2)
		die_of(sig);	/* as if it had not been blocked */
	if (rc == -1)
		fprintf(stderr, "ctxrun: cancel: cannot reach ctxrun %d (%s): %s\n",
		    (int)c->pid, c->name, strerror(errno));
	else if (rc == 1)
		fprintf(stderr, "ctxrun: cancel: ctxrun %d (%s) refused: %s\n",
		    (int)c->pid, c->name, why);
	ctx_free_tree(c);
	return rc == 0 ? 0 : 1;
}

int
cmd_retry(int argc, char **argv)
{
	struct ask m = { .kind = ASK_CANCEL };	/* until --never or --after */
	char why[ASK_TEXT_MAX];
	int sig = 0;
	ctx_err err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--never") == 0 && m.kind == ASK_CANCEL)
			m.kind = ASK_RETRY_NEVER;
		else if (strcmp(argv[i], "--after") == 0 && i + 1 < argc && m.kind == ASK_CANCEL) {
			m.kind = ASK_RETRY_AFTER;
			if (parse_duration(argv[++i], &m.after, &err) == -1)
				usage_error("retry: --after: %s", err.msg);
		} else if (strcmp(argv[i], "--cause") == 0 && i + 1 < argc && m.cause[0] == '\0') {
			if (strlen(argv[++i]) >= sizeof(m.cause))
				usage_error("retry: --cause: longer than %zu bytes",
				    sizeof(m.cause) - 1);
			strlcpy(m.cause, argv[i], sizeof(m.cause));
		} else {
			char q[512];
			gnu_quote(argv[i], q, sizeof(q));
			usage_error("retry: unexpected argument %s (usage: ctxrun retry "
			    "--never [--cause TEXT] | --after DURATION)", q);
		}
	}
	if (m.kind == ASK_CANCEL)
		usage_error("retry: --never or --after DURATION (usage: ctxrun retry "
		    "--never [--cause TEXT] | --after DURATION)");
	if (m.kind == ASK_RETRY_AFTER && m.cause[0] != '\0')
		usage_error("retry: --cause goes with --never");
	struct ctx *c = inherited(argv[0]), *at = c;
	/* The nearest enclosing ctxrun that makes retries. */
	while (at != NULL && at->attempts == 0)
		at = at->parent;
	if (at == NULL) {
		fprintf(stderr, "ctxrun: retry: no enclosing ctxrun makes retries\n");
		ctx_free_tree(c);
		return 1;
	}
	int rc = ctxrun_ask(at->token, &m, why, &sig);
	if (rc == -2)
		die_of(sig);
	if (rc == -1)
		fprintf(stderr, "ctxrun: retry: cannot reach ctxrun %d (%s): %s\n",
		    (int)at->pid, at->name, strerror(errno));
	else if (rc == 1)
		fprintf(stderr, "ctxrun: retry: ctxrun %d (%s) refused: %s\n",
		    (int)at->pid, at->name, why);
	ctx_free_tree(c);
	return rc == 0 ? 0 : 1;
}
