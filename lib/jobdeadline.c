/*
 * The deadline of the CI job ctxrun runs in (--job-deadline), read from
 * the variables each CI sets for its jobs.  Pure: the environment and the
 * clocks come in as arguments, so that every source can be tested with
 * made-up values.
 *
 * Sources, the first present wins (see CI JOB DEADLINES in ctxrun(1)):
 *   GitLab     CI_JOB_TIMEOUT (seconds) after CI_JOB_STARTED_AT (RFC 3339)
 *   Slurm      SLURM_JOB_END_TIME (seconds since the epoch)
 *   Bazel      TEST_TIMEOUT (seconds), not under `bazel run`
 *   Buildkite  BUILDKITE_TIMEOUT (minutes, "false" without a timeout)
 * Bazel and Buildkite do not say when the timeout started: ctxrun's own
 * start stands for it.
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"

/* A whole number of units (seconds: unit NS_PER_SEC), digits only: a CI
 * writes these itself, and anything else means the variable is not what
 * ctxrun takes it for, so it is refused rather than guessed at. */
static int
whole_units(const char *var, const char *s, int64_t unit, const char *what,
    int64_t *ns, ctx_err *err)
{
	int64_t v = 0;

	if (*s == '-' && s[1] >= '0' && s[1] <= '9')
		return ctx_fail(err, "%s: '%.40s' is negative", var, s);
	if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
		return ctx_fail(err, "%s: '%.40s' is not a whole number of %s", var, s, what);
	for (; *s != '\0'; s++) {
		if (v > (INT64_MAX / unit - (*s - '0')) / 10)
			return ctx_fail(err, "%s: too large", var);
		v = v * 10 + (*s - '0');
	}
	*ns = v * unit;
	return 0;
}

int
job_deadline(char *const *envp, int64_t margin, int64_t wall, int64_t mono,
    int64_t start, struct job_deadline *jd, ctx_err *err)
{
	const char *timeout, *started, *end;
	int64_t t, at;
	ctx_err perr;

	if ((timeout = env_get(envp, "CI_JOB_TIMEOUT")) != NULL) {
		jd->source = "gitlab-job";
		jd->var = "CI_JOB_TIMEOUT";
		if (whole_units("CI_JOB_TIMEOUT", timeout, NS_PER_SEC, "seconds", &t, err) == -1)
			return -1;
		if ((started = env_get(envp, "CI_JOB_STARTED_AT")) == NULL)
			return ctx_fail(err, "CI_JOB_TIMEOUT is set, but not CI_JOB_STARTED_AT "
			    "(the start it counts from)");
		/* RFC 3339 only: GitLab writes it so, @EPOCH is ctxrun's own. */
		if (*started != '@' && parse_instant(started, &at, &perr) == -1 &&
		    strstr(perr.msg, "too far") != NULL)
			return ctx_fail(err, "CI_JOB_STARTED_AT: %s", perr.msg);
		if (*started == '@' || parse_instant(started, &at, &perr) == -1)
			return ctx_fail(err, "CI_JOB_STARTED_AT: '%.40s' is not an RFC 3339 "
			    "time (2022-01-31T16:47:55Z)", started);
		/* The end on the wall clock, then on the monotonic one. */
		jd->deadline = time_add(time_add(mono, time_add(at, -wall)), t);
	} else if ((end = env_get(envp, "SLURM_JOB_END_TIME")) != NULL) {
		jd->source = "slurm-job";
		jd->var = "SLURM_JOB_END_TIME";
		if (whole_units("SLURM_JOB_END_TIME", end, NS_PER_SEC, "seconds since the epoch",
		    &at, err) == -1)
			return -1;
		jd->deadline = time_add(mono, time_add(at, -wall));
	} else if ((timeout = env_get(envp, "TEST_TIMEOUT")) != NULL &&
	    env_get(envp, "BUILD_WORKSPACE_DIRECTORY") == NULL) {
		/* Under `bazel run` (which sets BUILD_WORKSPACE_DIRECTORY) a test
		 * target gets TEST_TIMEOUT too, but nothing enforces it. */
		jd->source = "bazel-test";
		jd->var = "TEST_TIMEOUT";
		if (whole_units("TEST_TIMEOUT", timeout, NS_PER_SEC, "seconds", &t, err) == -1)
			return -1;
		jd->deadline = time_add(start, t);
	} else if ((timeout = env_get(envp, "BUILDKITE_TIMEOUT")) != NULL) {
		jd->source = "buildkite-job";
		jd->var = "BUILDKITE_TIMEOUT";
		/* Buildkite's word for a step without a timeout. */
		if (strcmp(timeout, "false") == 0)
			return 0;
		if (whole_units("BUILDKITE_TIMEOUT", timeout, 60 * NS_PER_SEC, "minutes",
		    &t, err) == -1)
			return -1;
		jd->deadline = time_add(start, t);
	} else
		return 0;
	/* Too far for the clocks: the latest deadline they show, still one. */
	if (jd->deadline == CTX_NEVER)
		jd->deadline = CTX_LATEST;
	jd->deadline = time_add(deadline_cap(jd->deadline, mono - wall), -margin);
	return 1;
}
