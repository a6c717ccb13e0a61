/*
 * cbq blocks and whoami: what capacity the caller may use and who the
 * server thinks the caller is. Read-only; jobs are cmd_jobs.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "call.h"
#include "cbq/v1/cbq.pb-c.h"
#include "print.h"

/* -------- blocks -------- */

static void print_blocks(const struct cli_ctx *ctx, const ProtobufCMessage *reply)
{
	const Cbq__V1__ListBlocksReply *r = (const Cbq__V1__ListBlocksReply *)reply;
	static const char *const headers[] = { "ID",    "TYPE",      "AZ",  "STATE", "TOTAL",
					       "AVAILABLE", "START", "END", "CUTOFF" };
	static const char *const usage_headers[] = { "BLOCK", "ACCOUNT", "USED" };
	struct cli_table t, u;

	cli_table_init(&t, 9, headers);
	cli_table_init(&u, 3, usage_headers);
	for (size_t i = 0; i < r->n_blocks; i++) {
		const Cbq__V1__Block *b = r->blocks[i];
		char state[CLI_NAME_BUF], total[16], avail[16];
		char start[CLI_TIME_BUF], end[CLI_TIME_BUF], cutoff[CLI_TIME_BUF];

		snprintf(total, sizeof(total), "%d", (int)b->total);
		snprintf(avail, sizeof(avail), "%d", (int)b->available);
		const char *row[] = {
			b->id,
			b->instance_type,
			b->availability_zone,
			/* AWS spells them payment-pending etc.; so do we */
			cli_enum_name(&cbq__v1__block_state__descriptor, b->state, "BLOCK_STATE_", '-',
				      state, sizeof(state)),
			total,
			avail,
			cli_time(b->start_ms, start, sizeof(start)),
			cli_time(b->end_ms, end, sizeof(end)),
			cli_time(b->cutoff_ms, cutoff, sizeof(cutoff)),
		};
		cli_table_add(&t, row);
		for (size_t k = 0; k < b->n_usage; k++) {
			char used[16];

			snprintf(used, sizeof(used), "%d", (int)b->usage[k]->used);
			const char *urow[] = { b->id, b->usage[k]->account_id, used };
			cli_table_add(&u, urow);
		}
	}
	cli_table_print(&t, stdout, ctx->tty_width);
	if (u.n_rows) {
		printf("\n");
		cli_table_print(&u, stdout, ctx->tty_width);
	}
	cli_table_free(&t);
	cli_table_free(&u);
}

static enum cli_exit blocks_run(struct cli_ctx *ctx, const struct cli_args *args)
{
	return cli_call_show(ctx, "GET", "/v1/blocks", &cbq__v1__list_blocks_reply__descriptor,
			     print_blocks);
}

const struct cli_command cli_cmd_blocks = {
	.name = "blocks",
	.args = "",
	.summary = "list the Capacity Blocks your accounts may use (admins: with usage per account)",
	.run = blocks_run,
};

/* -------- whoami -------- */

static void print_whoami(const struct cli_ctx *ctx, const ProtobufCMessage *reply)
{
	const Cbq__V1__WhoAmIReply *w = (const Cbq__V1__WhoAmIReply *)reply;

	cli_kv(stdout, "account", w->account_id);
	cli_kv(stdout, "team", w->team);
	cli_kv(stdout, "principal", w->principal);
	cli_kv(stdout, "auth", w->auth_method);
	cli_kv(stdout, "admin", w->admin ? "yes" : "no");
}

static enum cli_exit whoami_run(struct cli_ctx *ctx, const struct cli_args *args)
{
	return cli_call_show(ctx, "GET", "/v1/whoami", &cbq__v1__who_am_ireply__descriptor,
			     print_whoami);
}

const struct cli_command cli_cmd_whoami = {
	.name = "whoami",
	.args = "",
	.summary = "show the account, team and principal the server sees",
	.run = whoami_run,
};
