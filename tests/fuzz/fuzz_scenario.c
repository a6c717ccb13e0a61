/*
 * libFuzzer target for the cbq-awssim scenario parser (tests/awssim/
 * scenario.h): any bytes go to sim_scenario_parse, which must either refuse
 * them with a message or return a scenario that frees cleanly. Lookups are
 * exercised on what it returns. Not a test of the scenario rules.
 */
#include <stdint.h>
#include <stdlib.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbq_error err = { 0 };
	struct sim_scenario *s = NULL;

	if (sim_scenario_parse((const char *)data, size, &s, &err) != CBQ_OK) {
		if (s || !err.msg[0])
			abort(); /* refused: nothing returned, and a message says why */
		return 0;
	}
	for (size_t i = 0; i < s->n_accounts; i++)
		if (sim_scenario_account(s, s->accounts[i].id) != &s->accounts[i])
			abort();
	for (size_t i = 0; i < s->n_blocks; i++)
		if (sim_scenario_block(s, s->blocks[i].id) < 0)
			abort();
	sim_scenario_free(s);
	return 0;
}
