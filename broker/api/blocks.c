/* Handlers for /v1/blocks and /v1/whoami. */
#include <stdio.h>
#include <stdlib.h>

#include "api/call.h"
#include "api/codec.h"

static void reply_blocks(void *arg, const struct block *blocks, size_t n,
			 const struct cbq_error *err)
{
	struct api_call *call = arg;
	struct cbq_arena mem = { 0 };
	Cbq__V1__ListBlocksReply reply = CBQ__V1__LIST_BLOCKS_REPLY__INIT;
	Cbq__V1__Block *pbs, **ptrs;

	if (err) {
		api_reply_error(call, err);
		return;
	}
	pbs = cbq_arena_alloc(&mem, n, sizeof(*pbs));
	ptrs = cbq_arena_alloc(&mem, n, sizeof(*ptrs));
	for (size_t i = 0; i < n; i++) {
		api_block_to_pb(&blocks[i], &pbs[i], &mem);
		ptrs[i] = &pbs[i];
	}
	reply.blocks = ptrs;
	reply.n_blocks = n;
	api_reply_pb(call, 200, &reply.base);
	cbq_arena_free(&mem);
}

void api_blocks_list(struct api_call *call)
{
	engine_list_blocks(api_call_engine(call), api_call_caller(call), reply_blocks, call);
}

void api_whoami(struct api_call *call)
{
	const struct caller *c = api_call_caller(call);
	Cbq__V1__WhoAmIReply reply = CBQ__V1__WHO_AM_IREPLY__INIT;
	char account[sizeof(c->account_id)], team[sizeof(c->team)], principal[sizeof(c->principal)],
		method[16];

	/* copies: protobuf-c wants char * and the caller is const */
	snprintf(account, sizeof(account), "%s", c->account_id);
	snprintf(team, sizeof(team), "%s", c->team);
	snprintf(principal, sizeof(principal), "%s", c->principal);
	snprintf(method, sizeof(method), "%s", c->auth_method ? c->auth_method : "");
	reply.account_id = account;
	reply.team = team;
	reply.principal = principal;
	reply.auth_method = method;
	reply.admin = c->admin;
	api_reply_pb(call, 200, &reply.base);
}
