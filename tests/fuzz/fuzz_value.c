/* --value and --env arguments: KEY=VALUE split at the first '=', KEY a
 * shell identifier; any VALUE survives the environment encoding. */
#include "../../lib/internal.h"
#include "../../lib/envcodec.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *enc, *dec = NULL;
	size_t n = strlen(s), k = strcspn(s, "=");

	if (is_identifier(s, k))
		for (size_t i = 0; i < k; i++)
			PROPERTY(s[i] != '=' && s[i] != ' ' && s[i] != '%', "key '%s'", s);
	enc = pct_encode(s, n);
	PROPERTY(enc != NULL, "encode");
	PROPERTY(strcspn(enc, " =\n") == strlen(enc), "encoded '%s' has a separator", enc);
	PROPERTY(pct_decode(enc, strlen(enc), &dec) == 0 && strcmp(dec, s) == 0,
	    "round trip of '%s'", s);
	free(dec);
	dec = NULL;
	/* Decoding arbitrary input never yields a NUL inside. */
	if (pct_decode(s, n, &dec) == 0)
		PROPERTY(strlen(dec) <= n, "decoded longer than encoded");
	free(dec);
	free(enc);
	free(s);
	return 0;
}
