/*
 * Whether COMMAND can start once the context is in its environment: the
 * level within what execve takes in one string, and arguments and
 * environment together within what it takes in all, counted as the kernel
 * counts them (fs/exec.c): every string with its NUL (the path of the
 * program first, and for a script what its #! line adds), and a pointer
 * for each argument and variable.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envcodec.h"
#include "internal.h"

/* The kernel's limit on arguments and environment together: a quarter of
 * the stack limit, at most 3/4 of 8 MiB, at least 32 pages. */
static size_t
exec_args_limit(void)
{
	struct rlimit r;
	size_t limit = 8 * 1024 * 1024 / 4 * 3;

	if (getrlimit(RLIMIT_STACK, &r) == 0 && r.rlim_cur != RLIM_INFINITY &&
	    r.rlim_cur / 4 < limit)
		limit = r.rlim_cur / 4;
	return limit < CTX_ENV_STRING_MAX ? CTX_ENV_STRING_MAX : limit;
}

/* CTXRUN_DEPTH, or CTXRUN_<n> with n >= depth: replaced or removed when
 * the context is exported. */
static bool
replaced_by_export(const char *e, size_t depth)
{
	char *end;

	if (strncmp(e, "CTXRUN_DEPTH=", 13) == 0)
		return true;
	if (strncmp(e, "CTXRUN_", 7) != 0 || e[7] < '1' || e[7] > '9')
		return false;
	unsigned long n = strtoul(e + 7, &end, 10);
	return *end == '=' && n >= depth;
}

/* CTXRUN_ATTEMPT and CTXRUN_ATTEMPTS: replaced when this level retries. */
static bool
replaced_attempt(const char *e, unsigned attempts)
{
	return attempts > 0 && (strncmp(e, "CTXRUN_ATTEMPT=", 15) == 0 ||
	    strncmp(e, "CTXRUN_ATTEMPTS=", 16) == 0);
}

/* What a #! line adds: the interpreter and its argument as arguments (and
 * their pointers), the script's path in place of argv[0]. */
static size_t
script_cost(const char *path, const char *argv0)
{
	char line[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (got < 2 || line[0] != '#' || line[1] != '!')
		return 0;
	line[got] = '\0';
	line[strcspn(line, "\n")] = '\0';
	/* "#! /bin/sh -e": the name, then at most one argument, the rest of
	 * the line; both with their NUL and pointer. */
	char *p = line + 2 + strspn(line + 2, " \t");
	size_t name = strcspn(p, " \t"), rest = strlen(p + name + strspn(p + name, " \t"));
	size_t cost = name + 1 + sizeof(char *) + strlen(path) + 1;
	if (rest > 0)
		cost += rest + 1 + sizeof(char *);
	size_t dropped = strlen(argv0) + 1;
	return cost > dropped ? cost - dropped : 0;
}

/* The program's path as execve will be given it (found in envp's PATH as
 * spawn.c finds it), with its NUL, and what its #! line adds. */
static size_t
program_cost(const char *argv0, char *const *envp)
{
	const char *path = env_get(envp, "PATH");
	size_t flen = strlen(argv0), longest = flen + 1;
	char cand[4096];

	if (strchr(argv0, '/') != NULL)
		return flen + 1 + script_cost(argv0, argv0);
	for (const char *p = path ? path : "/bin:/usr/bin";; ) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		struct stat st;
		if (dlen + flen + 2 <= sizeof(cand)) {
			snprintf(cand, sizeof(cand), "%.*s%s%s", (int)dlen, p,
			    dlen > 0 ? "/" : "", argv0);
			if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(cand, X_OK) == 0)
				return strlen(cand) + 1 + script_cost(cand, argv0);
			longest = strlen(cand) + 1 > longest ? strlen(cand) + 1 : longest;
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return longest;		/* not found: exec says so, not a size */
}

int
ctx_env_check(const struct ctx *c, unsigned attempts, char *const *argv,
    char *const *envp, ctx_err *err)
{
	size_t depth = ctx_depth(c), base, ours, var, limit = exec_args_limit();
	/* The widest level any attempt gets: the widest pid (PID_MAX_LIMIT)
	 * and token, the last attempt's number (attempt=N/N), and a few
	 * digits more for deadlines that grow a digit before the export. */
	struct ctx widest = *c;
	widest.attempt = widest.attempts = attempts;
	char *enc = ctx_encode(&widest, 4194304, "ffffffffffffffffffffffffffffffff");

	if (depth > CTX_MAX_DEPTH) {
		free(enc);
		return ctx_fail(err, "nested too deep: this context would be level %zu, "
		    "and a nested ctxrun accepts at most %d", depth, CTX_MAX_DEPTH);
	}
	if (enc == NULL)
		return ctx_fail(err, "out of memory");
	/* "CTXRUN_64=" and the NUL, 8 bytes of room for the deadline. */
	var = strlen("CTXRUN_64=") + strlen(enc) + 1 + 8;
	free(enc);
	if (var > CTX_ENV_STRING_MAX)
		return ctx_fail(err, "the context's name and values take %zu bytes "
		    "encoded in CTXRUN_%zu, more than the %d bytes that execve "
		    "allows one environment string", var, depth, CTX_ENV_STRING_MAX);
	base = program_cost(argv[0], envp);
	for (char *const *a = argv; *a != NULL; a++)
		base += strlen(*a) + 1 + sizeof(char *);
	for (char *const *e = envp; e != NULL && *e != NULL; e++)
		if (!replaced_by_export(*e, depth) && !replaced_attempt(*e, attempts))
			base += strlen(*e) + 1 + sizeof(char *);
	ours = var + sizeof(char *) + strlen("CTXRUN_DEPTH=64") + 1 + sizeof(char *);
	if (attempts > 0) {
		char num[16];
		size_t digits = (size_t)snprintf(num, sizeof(num), "%u", attempts);
		ours += strlen("CTXRUN_ATTEMPT=") + strlen("CTXRUN_ATTEMPTS=") +
		    2 * (digits + 1 + sizeof(char *));
	}
	/* Too big without our variables already: exec's to refuse, not ours
	 * (ctxrun itself was started with about as much). */
	if (base + ours > limit && base <= limit)
		return ctx_fail(err, "with the context's %zu bytes, COMMAND's arguments "
		    "and environment would take %zu bytes, more than the %zu that "
		    "execve allows", ours, base + ours, limit);
	return 0;
}
