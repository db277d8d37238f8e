/* Durations, both syntaxes: what is accepted is in range, and a Go-style
 * duration printed and parsed again is the same value. */
#include "../../lib/gnu.h"
#include "../../lib/internal.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), buf[64];
	int64_t v, again;
	ctx_err err;

	if (parse_duration(s, &v, &err) == 0) {
		PROPERTY(v >= 0, "'%s' gave %lld", s, (long long)v);
		format_duration(v, buf, sizeof(buf));
		PROPERTY(parse_duration(buf, &again, &err) == 0 && again == v,
		    "'%s' -> %lld -> '%s'", s, (long long)v, buf);
	}
	if (parse_gnu_duration(s, &v, &err) == 0)
		PROPERTY(v >= 0 && v <= CTX_LATEST, "gnu '%s' gave %lld", s, (long long)v);
	free(s);
	return 0;
}
