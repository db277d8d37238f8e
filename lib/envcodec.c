/*
 * The context in the environment.  A ctxrun at depth N exports
 *
 *   CTXRUN_DEPTH=N
 *   CTXRUN_N=name=NAME pid=PID token=HEX grace=SECS [hook=SECS]
 *            [deadline=EPOCH mono=SECS boot=CLOCK] [attempt=K/N]
 *            [v.KEY=VALUE]...
 *
 * and keeps CTXRUN_1 .. CTXRUN_N-1 from its parents.  Fields are separated
 * by one space; NAME, VALUE and CLOCK are percent-encoded, so any byte but
 * NUL survives.  deadline is the effective deadline on the wall clock; mono
 * is the same instant on the CLOCK_MONOTONIC that CLOCK names (boot id and
 * time namespace, mono_clock_id()), preferred where the clock is the same
 * so that wall-clock steps do not move it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "internal.h"
#include "envcodec.h"


static bool
is_plain(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || (ch != '\0' && strchr("._~/:@+,-", ch));
}

char *
pct_encode(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(len * 3 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (is_plain(ch))
			*o++ = (char)ch;
		else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
pct_decode(const char *s, size_t len, char **out)
{
	char *d = malloc(len + 1), *o = d;

	if (d == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (len - i < 3)
				goto bad;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				goto bad;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (is_plain((unsigned char)s[i]))
			*o++ = s[i];
		else
			goto bad;
	}
	*o = '\0';
	*out = d;
	return 0;
bad:
	free(d);
	return -1;
}

const char *
env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* "N/M", 1 <= N <= M <= MAX_ATTEMPTS: attempt N of at most M. */
static int
parse_attempt(const char *s, size_t len, struct ctx *c)
{
	unsigned long n = 0, m = 0, *v = &n;
	size_t digits = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '/' && v == &n && digits > 0) {
			v = &m;
			digits = 0;
		} else if (s[i] >= '0' && s[i] <= '9' && digits++ < 9)
			*v = *v * 10 + (unsigned long)(s[i] - '0');
		else
			return -1;
	}
	if (v != &m || digits == 0 || n < 1 || n > m || m > MAX_ATTEMPTS)
		return -1;
	c->attempt = (unsigned)n;
	c->attempts = (unsigned)m;
	return 0;
}

static int
parse_pid(const char *s, size_t len, pid_t *pid)
{
	long v = 0;

	if (len == 0 || len > 9)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*pid = (pid_t)v;
	return v > 0 ? 0 : -1;
}

static int
parse_seconds_n(const char *s, size_t len, int64_t *ns)
{
	char buf[40];

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return parse_seconds(buf, ns);
}

/* What the fields of one level say, kept until all are read: some are
 * only valid together. */
struct level {
	int64_t	 wall, mono;
	char	*boot, *name;
	bool	 have_pid, have_token, have_grace;
};

/* 32 lowercase hex digits, the cancel socket's name. */
static bool
decode_token(const char *v, char *token)
{
	bool ok = true;

	for (size_t i = 0; ok && i < 32; i++)
		ok = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f');
	if (ok)
		memcpy(token, v, 33), token[32] = '\0';
	return ok;
}

/* v.KEY=VALUE: a value of this level, each KEY once. */
static bool
decode_value(struct ctx *c, const char *k, size_t klen, const char *v,
    size_t vlen)
{
	char *key = strndup(k, klen), *val = NULL;
	bool ok = key != NULL;

	for (size_t i = 0; ok && i < c->nvalues; i++)
		ok = strcmp(c->values[i].key, key) != 0;
	ok = ok && pct_decode(v, vlen, &val) == 0 &&
	    ctx_set_value(c, key, val) == 0;
	free(key);
	free(val);
	return ok;
}

/* One field KEY=VALUE (KEY is s, klen bytes): 1 read, 0 bad or repeated,
 * -1 no such field. */
static int
decode_field(struct level *l, struct ctx *c, const char *s, size_t klen,
    const char *v, size_t vlen)
{
	bool ok;

#define KEY(k) (klen == sizeof(k) - 1 && memcmp(s, k, klen) == 0)
	if (KEY("name"))
		ok = l->name == NULL && pct_decode(v, vlen, &l->name) == 0;
	else if (KEY("pid"))
		ok = !l->have_pid && (l->have_pid = true) &&
		    parse_pid(v, vlen, &c->pid) == 0;
	else if (KEY("token"))
		ok = !l->have_token && vlen == 32 && (l->have_token = true) &&
		    decode_token(v, c->token);
	else if (KEY("grace"))
		ok = !l->have_grace && (l->have_grace = true) &&
		    parse_seconds_n(v, vlen, &c->grace) == 0;
	else if (KEY("hook"))
		ok = c->hook_limit == 0 && parse_seconds_n(v, vlen, &c->hook_limit) == 0;
	else if (KEY("deadline"))
		ok = l->wall < 0 && parse_seconds_n(v, vlen, &l->wall) == 0;
	else if (KEY("mono"))
		ok = l->mono < 0 && parse_seconds_n(v, vlen, &l->mono) == 0;
	else if (KEY("boot"))
		ok = l->boot == NULL && pct_decode(v, vlen, &l->boot) == 0;
	else if (KEY("attempt"))
		ok = c->attempts == 0 && parse_attempt(v, vlen, c) == 0;
	else if (klen > 2 && memcmp(s, "v.", 2) == 0 && is_identifier(s + 2, klen - 2))
		ok = decode_value(c, s + 2, klen - 2, v, vlen);
	else
		return -1;
#undef KEY
	return ok;
}

/* The fields read, those that go together checked together: the name
 * and the deadline go to c. */
static int
finish_level(const char *var, struct level *l, struct ctx *c, ctx_err *err)
{
	if (l->name == NULL || !l->have_pid || !l->have_token || !l->have_grace)
		return ctx_fail(err, "%s: needs name, pid, token and grace", var);
	if ((l->wall < 0) != (l->mono < 0) || (l->mono < 0) != (l->boot == NULL))
		return ctx_fail(err, "%s: deadline, mono and boot go together", var);
	free(c->name);
	c->name = l->name;
	l->name = NULL;
	if (l->wall >= 0) {
		/* Same boot and time namespace: the monotonic instant is exact
		 * and immune to clock steps.  Another machine, boot or time
		 * namespace: only the wall clock is shared.  One conversion for
		 * the whole chain, so that equal instants stay equal. */
		if (same_mono_clock(l->boot)) {
			c->deadline = l->mono;
			/* Written through the outermost ctxrun's offset. */
			if (l->wall > 0 && l->mono > 0)
				wall_offset_adopt(l->wall - l->mono);
		} else
			c->deadline = time_add(l->wall, -wall_offset());
		/* Long past (before this boot): as good as now, and printable;
		 * too far for the clock: the latest it holds, still one. */
		if (c->deadline < 0)
			c->deadline = 0;
		c->deadline = deadline_cap(c->deadline == CTX_NEVER ? CTX_LATEST :
		    c->deadline, -wall_offset());
	}
	return 0;
}

/* One level: the fields of CTXRUN_<level>. */
int
decode_level(const char *var, const char *s, struct ctx *c, ctx_err *err)
{
	struct level l = { .wall = -1, .mono = -1 };
	int rc = -1;

	while (*s != '\0') {
		const char *end = strchr(s, ' '), *eq;
		size_t flen = end ? (size_t)(end - s) : strlen(s);
		if ((eq = memchr(s, '=', flen)) == NULL) {
			ctx_fail(err, "%s: field '%.*s' has no '='", var, (int)flen, s);
			goto out;
		}
		size_t klen = (size_t)(eq - s), vlen = flen - klen - 1;
		int got = decode_field(&l, c, s, klen, eq + 1, vlen);
		if (got == -1) {
			ctx_fail(err, "%s: unknown field '%.*s'", var, (int)klen, s);
			goto out;
		}
		if (got == 0) {
			ctx_fail(err, "%s: bad or repeated field '%.*s'", var, (int)flen, s);
			goto out;
		}
		s += flen;
		if (*s == ' ' && *++s == '\0') {
			ctx_fail(err, "%s: trailing space", var);
			goto out;
		}
	}
	rc = finish_level(var, &l, c, err);
out:
	free(l.name);
	free(l.boot);
	return rc;
}

char *
ctx_encode(const struct ctx *c, pid_t pid, const char *token)
{
	char *name = pct_encode(c->name, strlen(c->name)), *out = NULL;
	/* The fixed fields take at most about 330 bytes: room for all of
	 * them; values grow the buffer as they come. */
	size_t cap = strlen(name ? name : "") + 512, len = 0;
	int64_t deadline = ctx_deadline(c);

	if (name == NULL || (out = malloc(cap)) == NULL)
		goto fail;
	len = (size_t)snprintf(out, cap, "name=%s pid=%d token=%s grace=%" PRId64
	    ".%09" PRId64, name, (int)pid, token, c->grace / NS_PER_SEC,
	    c->grace % NS_PER_SEC);
	if (c->hook_limit > 0)
		len += (size_t)snprintf(out + len, cap - len, " hook=%" PRId64 ".%09" PRId64,
		    c->hook_limit / NS_PER_SEC, c->hook_limit % NS_PER_SEC);
	if (deadline != CTX_NEVER) {
		int64_t wall = mono_to_wall(deadline);
		if (wall < 0)
			wall = 0;
		if (deadline < 0)
			deadline = 0;
		char *boot = pct_encode(mono_clock_id(), strlen(mono_clock_id()));
		if (boot == NULL)
			goto fail;
		len += (size_t)snprintf(out + len, cap - len, " deadline=%" PRId64
		    ".%09" PRId64 " mono=%" PRId64 ".%09" PRId64 " boot=%s",
		    wall / NS_PER_SEC, wall % NS_PER_SEC, deadline / NS_PER_SEC,
		    deadline % NS_PER_SEC, boot);
		free(boot);
	}
	if (c->attempts > 0)
		len += (size_t)snprintf(out + len, cap - len, " attempt=%u/%u",
		    c->attempt, c->attempts);
	/* Only this node's own values: a nested ctxrun decodes the whole chain
	 * and looks values up innermost first. */
	for (size_t i = 0; i < c->nvalues; i++) {
		char *v = pct_encode(c->values[i].val, strlen(c->values[i].val));
		size_t need = len + strlen(c->values[i].key) + (v ? strlen(v) : 0) + 5;
		char *grown = need > cap ? realloc(out, cap = need * 2) : out;
		if (v == NULL || grown == NULL) {
			free(v);
			goto fail;
		}
		out = grown;
		len += (size_t)snprintf(out + len, cap - len, " v.%s=%s",
		    c->values[i].key, v);
		free(v);
	}
	free(name);
	return out;
fail:
	free(name);
	free(out);
	return NULL;
}
