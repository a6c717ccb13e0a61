/*
 * GET /metrics: the engine's registry as Prometheus text (exposition format
 * 0.0.4). Who may read it is the router's business (server.c, R_OPS).
 */
#include "api/call.h"
#include "engine.h"

static void rendered(void *arg, const char *text, size_t len, const struct cbq_error *err)
{
	struct api_call *call = arg;

	if (err) {
		api_reply_error(call, err);
		return;
	}
	api_reply_body(call, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

void api_metrics(struct api_call *call)
{
	engine_metrics(api_call_engine(call), rendered, call);
}
