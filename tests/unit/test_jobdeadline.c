/* The CI job's deadline: each source, its malformed values, and absence. */
#include <string.h>

#include "../../lib/internal.h"
#include "unit.h"

/* Clocks made up so that results are exact: the wall clock at
 * 2026-01-01T00:00:00Z, the monotonic one at 1000 s, ctxrun started 2 s
 * earlier. */
#define WALL (INT64_C(1767225600) * NS_PER_SEC)
#define MONO (1000 * NS_PER_SEC)
#define START (998 * NS_PER_SEC)
#define S(n) ((int64_t)(n) * NS_PER_SEC)

static int
run(char **envp, int64_t margin, struct job_deadline *jd, ctx_err *err)
{
	memset(jd, 0, sizeof(*jd));
	err->msg[0] = '\0';
	return job_deadline(envp, margin, WALL, MONO, START, jd, err);
}

/* One malformed case: -1, and the message names var and holds what. */
static void
refused(char **envp, const char *var, const char *what)
{
	struct job_deadline jd;
	ctx_err err;

	CHECK(run(envp, S(30), &jd, &err) == -1, "%s accepted", envp[0]);
	CHECK(strstr(err.msg, var) != NULL && strstr(err.msg, what) != NULL,
	    "%s: message '%s' lacks '%s' or '%s'", envp[0], err.msg, var, what);
}

int
main(void)
{
	struct job_deadline jd;
	ctx_err err;

	/* Absence: no source, no effect; unrelated variables are ignored. */
	char *none[] = { "PATH=/bin", "CI=true", "CTXRUN_JOB_DEADLINE=1s", NULL };
	CHECK(run(none, S(30), &jd, &err) == 0, "no source");
	char *empty[] = { NULL };
	CHECK(run(empty, S(30), &jd, &err) == 0, "empty environment");
	CHECK(job_deadline(NULL, S(30), WALL, MONO, START, &jd, &err) == 0, "NULL envp");

	/* GitLab: started 10 s ago with a 12 s timeout, margin 1 s: 1 s left. */
	char *gitlab[] = { "CI_JOB_TIMEOUT=12", "CI_JOB_STARTED_AT=2025-12-31T23:59:50Z", NULL };
	CHECK(run(gitlab, S(1), &jd, &err) == 1, "gitlab: %s", err.msg);
	CHECK(strcmp(jd.source, "gitlab-job") == 0, "gitlab name %s", jd.source);
	CHECK(jd.deadline == MONO + S(1), "gitlab deadline %lld", (long long)jd.deadline);
	/* An offset and a fraction, as RFC 3339 allows (GitLab's time zone
	 * is configurable). */
	char *gitlab_tz[] = { "CI_JOB_STARTED_AT=2026-01-01T00:59:50.5+01:00",
	    "CI_JOB_TIMEOUT=3600", NULL };
	CHECK(run(gitlab_tz, S(30), &jd, &err) == 1 &&
	    jd.deadline == MONO - S(10) + NS_PER_SEC / 2 + S(3600) - S(30),
	    "gitlab offset: %s", err.msg);
	/* Already past: a deadline before now, for the caller to refuse. */
	char *gitlab_past[] = { "CI_JOB_TIMEOUT=60", "CI_JOB_STARTED_AT=2025-12-31T23:00:00Z", NULL };
	CHECK(run(gitlab_past, S(30), &jd, &err) == 1 && jd.deadline < MONO, "gitlab past");

	refused((char *[]){ "CI_JOB_TIMEOUT=abc", "CI_JOB_STARTED_AT=2026-01-01T00:00:00Z", NULL },
	    "CI_JOB_TIMEOUT", "whole number");
	refused((char *[]){ "CI_JOB_TIMEOUT=", "CI_JOB_STARTED_AT=2026-01-01T00:00:00Z", NULL },
	    "CI_JOB_TIMEOUT", "whole number");
	refused((char *[]){ "CI_JOB_TIMEOUT=-5", "CI_JOB_STARTED_AT=2026-01-01T00:00:00Z", NULL },
	    "CI_JOB_TIMEOUT", "negative");
	refused((char *[]){ "CI_JOB_TIMEOUT=1.5", "CI_JOB_STARTED_AT=2026-01-01T00:00:00Z", NULL },
	    "CI_JOB_TIMEOUT", "whole number");
	refused((char *[]){ "CI_JOB_TIMEOUT=99999999999999999999",
	    "CI_JOB_STARTED_AT=2026-01-01T00:00:00Z", NULL }, "CI_JOB_TIMEOUT", "too large");
	refused((char *[]){ "CI_JOB_TIMEOUT=9223372037", "CI_JOB_STARTED_AT=2026-01-01T00:00:00Z",
	    NULL }, "CI_JOB_TIMEOUT", "too large");
	refused((char *[]){ "CI_JOB_TIMEOUT=60", NULL }, "CI_JOB_STARTED_AT", "not");
	refused((char *[]){ "CI_JOB_TIMEOUT=60", "CI_JOB_STARTED_AT=yesterday", NULL },
	    "CI_JOB_STARTED_AT", "RFC 3339");
	refused((char *[]){ "CI_JOB_TIMEOUT=60", "CI_JOB_STARTED_AT=2026-02-30T00:00:00Z", NULL },
	    "CI_JOB_STARTED_AT", "RFC 3339");
	refused((char *[]){ "CI_JOB_TIMEOUT=60", "CI_JOB_STARTED_AT=@1767225600", NULL },
	    "CI_JOB_STARTED_AT", "RFC 3339");

	/* GitLab wins over the others when several are present. */
	char *both[] = { "SLURM_JOB_END_TIME=1767225700", "TEST_TIMEOUT=5",
	    "CI_JOB_TIMEOUT=12", "CI_JOB_STARTED_AT=2025-12-31T23:59:50Z", NULL };
	CHECK(run(both, S(1), &jd, &err) == 1 && strcmp(jd.source, "gitlab-job") == 0,
	    "gitlab first");

	/* Slurm: an end 100 s from now. */
	char *slurm[] = { "SLURM_JOB_END_TIME=1767225700", NULL };
	CHECK(run(slurm, S(30), &jd, &err) == 1 && strcmp(jd.source, "slurm-job") == 0 &&
	    jd.deadline == MONO + S(70), "slurm: %s", err.msg);
	char *slurm_bazel[] = { "TEST_TIMEOUT=5", "SLURM_JOB_END_TIME=1767225700", NULL };
	CHECK(run(slurm_bazel, S(30), &jd, &err) == 1 && strcmp(jd.source, "slurm-job") == 0,
	    "slurm before bazel");
	refused((char *[]){ "SLURM_JOB_END_TIME=soon", NULL }, "SLURM_JOB_END_TIME", "whole number");
	refused((char *[]){ "SLURM_JOB_END_TIME=-1", NULL }, "SLURM_JOB_END_TIME", "negative");
	refused((char *[]){ "SLURM_JOB_END_TIME=1767225700 ", NULL }, "SLURM_JOB_END_TIME",
	    "whole number");

	/* Bazel: from ctxrun's start, which stands for the test's. */
	char *bazel[] = { "TEST_TIMEOUT=300", NULL };
	CHECK(run(bazel, S(30), &jd, &err) == 1 && strcmp(jd.source, "bazel-test") == 0 &&
	    jd.deadline == START + S(270), "bazel: %s", err.msg);
	/* bazel run sets TEST_TIMEOUT without enforcing it. */
	char *bazel_run[] = { "TEST_TIMEOUT=300", "BUILD_WORKSPACE_DIRECTORY=/src", NULL };
	CHECK(run(bazel_run, S(30), &jd, &err) == 0, "bazel run");
	refused((char *[]){ "TEST_TIMEOUT=5m", NULL }, "TEST_TIMEOUT", "whole number");
	/* An end too far for the clock is its latest deadline, never none;
	 * one too large for nanoseconds is refused. */
	static char *const far[][3] = {
		{ "TEST_TIMEOUT=9223372030", NULL },
		{ "BUILDKITE_TIMEOUT=153722867", NULL },
		{ "CI_JOB_TIMEOUT=9223372030", "CI_JOB_STARTED_AT=2026-01-01T00:00:00Z", NULL },
	};
	for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++)
		CHECK(run((char **)far[i], S(30), &jd, &err) == 1 &&
		    jd.deadline == latest_deadline(MONO - WALL) - S(30), "%s: %lld %s", far[i][0],
		    (long long)jd.deadline, err.msg);
	refused((char *[]){ "TEST_TIMEOUT=9223372037", NULL }, "TEST_TIMEOUT", "too large");

	/* Buildkite: minutes, from ctxrun's start; "false" is no timeout. */
	char *bk[] = { "BUILDKITE_TIMEOUT=10", NULL };
	CHECK(run(bk, S(30), &jd, &err) == 1 && strcmp(jd.source, "buildkite-job") == 0 &&
	    jd.deadline == START + S(600 - 30), "buildkite: %s", err.msg);
	char *bk_none[] = { "BUILDKITE_TIMEOUT=false", NULL };
	CHECK(run(bk_none, S(30), &jd, &err) == 0, "buildkite false");
	refused((char *[]){ "BUILDKITE_TIMEOUT=true", NULL }, "BUILDKITE_TIMEOUT", "minutes");
	refused((char *[]){ "BUILDKITE_TIMEOUT=153722867280912931", NULL }, "BUILDKITE_TIMEOUT",
	    "too large");

	/* A margin larger than what is left: a deadline already past. */
	CHECK(run(bk, S(3600), &jd, &err) == 1 && jd.deadline < MONO, "margin past");
	return unit_report("test_jobdeadline");
}
