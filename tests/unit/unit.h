/* A table-driven unit test needs only this: CHECK counts, main reports. */
#ifndef UNIT_H
#define UNIT_H
#include <stdio.h>

static int unit_failures, unit_checks;

#define CHECK(cond, ...) do { \
	unit_checks++; \
	if (!(cond)) { \
		unit_failures++; \
		fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
	} \
} while (0)

static int
unit_report(const char *name)
{
	printf("%s: %d checks, %d failures\n", name, unit_checks, unit_failures);
	return unit_failures != 0;
}
#endif
