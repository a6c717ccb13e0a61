/* XML/JSON reply building and the services' error shapes; see reply.h. */
#include "reply.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simutil.h"

static const char EC2_NS[] = "http://ec2.amazonaws.com/doc/2016-11-15/";
static const char STS_NS[] = "https://sts.amazonaws.com/doc/2011-06-15/";

void sim_reply_init(struct sim_reply *r, const char *request_id)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	r->body = evbuffer_new();
	if (!r->body)
		abort();
	snprintf(r->request_id, sizeof(r->request_id), "%s", request_id);
}

void sim_reply_reset(struct sim_reply *r)
{
	evbuffer_drain(r->body, evbuffer_get_length(r->body));
	r->status = 200;
	r->code[0] = '\0';
	r->content_type[0] = '\0';
	r->error_type_header = false;
	r->n_extra = 0;
}

void sim_reply_free(struct sim_reply *r)
{
	if (r->body)
		evbuffer_free(r->body);
	r->body = NULL;
}

/* Escapes &, <, >, " and ' and drops bytes XML 1.0 cannot carry. */
static void escaped(struct evbuffer *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': evbuffer_add(b, "&amp;", 5); break;
		case '<': evbuffer_add(b, "&lt;", 4); break;
		case '>': evbuffer_add(b, "&gt;", 4); break;
		case '"': evbuffer_add(b, "&quot;", 6); break;
		case '\'': evbuffer_add(b, "&apos;", 6); break;
		default:
			if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
				evbuffer_add(b, s, 1);
		}
	}
}

void sim_xml_open(struct sim_reply *r, const char *tag)
{
	evbuffer_add_printf(r->body, "<%s>", tag);
}

void sim_xml_close(struct sim_reply *r, const char *tag)
{
	evbuffer_add_printf(r->body, "</%s>", tag);
}

void sim_xml_empty(struct sim_reply *r, const char *tag)
{
	evbuffer_add_printf(r->body, "<%s/>", tag);
}

void sim_xml_text(struct sim_reply *r, const char *tag, const char *text)
{
	evbuffer_add_printf(r->body, "<%s>", tag);
	escaped(r->body, text ? text : "");
	evbuffer_add_printf(r->body, "</%s>", tag);
}

void sim_xml_textf(struct sim_reply *r, const char *tag, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sim_xml_text(r, tag, buf);
}

void sim_xml_int(struct sim_reply *r, const char *tag, long long v)
{
	evbuffer_add_printf(r->body, "<%s>%lld</%s>", tag, v, tag);
}

void sim_xml_bool(struct sim_reply *r, const char *tag, bool v)
{
	evbuffer_add_printf(r->body, "<%s>%s</%s>", tag, v ? "true" : "false", tag);
}

void sim_xml_time(struct sim_reply *r, const char *tag, cbq_ms t)
{
	char buf[SIM_TIME_SIZE];

	sim_xml_text(r, tag, sim_time_ec2(t, buf));
}

void sim_ec2_begin(struct sim_reply *r, const char *action)
{
	snprintf(r->content_type, sizeof(r->content_type), "text/xml;charset=UTF-8");
	evbuffer_add_printf(r->body,
			    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse xmlns=\"%s\">",
			    action, EC2_NS);
	sim_xml_text(r, "requestId", r->request_id);
}

void sim_ec2_end(struct sim_reply *r, const char *action)
{
	evbuffer_add_printf(r->body, "</%sResponse>\n", action);
}

void sim_sts_begin(struct sim_reply *r, const char *action)
{
	snprintf(r->content_type, sizeof(r->content_type), "text/xml");
	evbuffer_add_printf(r->body, "<%sResponse xmlns=\"%s\">\n<%sResult>", action, STS_NS,
			    action);
}

void sim_sts_end(struct sim_reply *r, const char *action)
{
	evbuffer_add_printf(r->body, "</%sResult>\n<ResponseMetadata>", action);
	sim_xml_text(r, "RequestId", r->request_id);
	evbuffer_add_printf(r->body, "</ResponseMetadata>\n</%sResponse>\n", action);
}

void sim_reply_error(struct sim_reply *r, enum sim_service svc, int status, const char *code,
		     const char *message)
{
	sim_reply_reset(r);
	r->status = status;
	snprintf(r->code, sizeof(r->code), "%s", code);
	switch (svc) {
	case SIM_SVC_STS:
		snprintf(r->content_type, sizeof(r->content_type), "text/xml");
		evbuffer_add_printf(r->body, "<ErrorResponse xmlns=\"%s\">\n  <Error>\n    ",
				    STS_NS);
		sim_xml_text(r, "Type", status >= 500 ? "Receiver" : "Sender");
		evbuffer_add_printf(r->body, "\n    ");
		sim_xml_text(r, "Code", code);
		evbuffer_add_printf(r->body, "\n    ");
		sim_xml_text(r, "Message", message);
		evbuffer_add_printf(r->body, "\n  </Error>\n  ");
		sim_xml_text(r, "RequestId", r->request_id);
		evbuffer_add_printf(r->body, "\n</ErrorResponse>\n");
		return;
	case SIM_SVC_RAM:
	case SIM_SVC_ORGS: {
		json_t *doc = json_pack("{s:s, s:s}", "__type", code,
					svc == SIM_SVC_RAM ? "message" : "Message", message);
		sim_reply_json(r, svc, status, doc);
		r->error_type_header = true;
		return;
	}
	case SIM_SVC_IMDS:
	case SIM_SVC_CONTROL: {
		json_t *doc = json_pack("{s:s, s:s}", "error", code, "message", message);
		sim_reply_json(r, svc, status, doc);
		return;
	}
	case SIM_SVC_EC2: break;
	}
	snprintf(r->content_type, sizeof(r->content_type), "text/xml;charset=UTF-8");
	evbuffer_add_printf(r->body,
			    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>");
	sim_xml_text(r, "Code", code);
	sim_xml_text(r, "Message", message);
	evbuffer_add_printf(r->body, "</Error></Errors>");
	sim_xml_text(r, "RequestID", r->request_id);
	evbuffer_add_printf(r->body, "</Response>\n");
}

void sim_ec2_error(struct sim_reply *r, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sim_reply_error(r, SIM_SVC_EC2, status, code, msg);
}

void sim_sts_error(struct sim_reply *r, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sim_reply_error(r, SIM_SVC_STS, status, code, msg);
}

void sim_json_error(struct sim_reply *r, enum sim_service svc, int status, const char *code,
		    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sim_reply_error(r, svc, status, code, msg);
}

void sim_reply_html(struct sim_reply *r, int status)
{
	sim_reply_reset(r);
	r->status = status;
	snprintf(r->code, sizeof(r->code), "HTTP%d", status);
	snprintf(r->content_type, sizeof(r->content_type), "text/html");
	evbuffer_add_printf(r->body,
			    "<html>\r\n<head><title>%d Internal Server Error</title></head>\r\n"
			    "<body>\r\n<center><h1>%d Internal Server Error</h1></center>\r\n"
			    "</body>\r\n</html>\r\n",
			    status, status);
}

void sim_reply_json(struct sim_reply *r, enum sim_service svc, int status, json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	evbuffer_drain(r->body, evbuffer_get_length(r->body));
	r->status = status;
	snprintf(r->content_type, sizeof(r->content_type), "%s",
		 svc == SIM_SVC_ORGS ? "application/x-amz-json-1.1" : "application/json");
	evbuffer_add_printf(r->body, "%s", text ? text : "{}");
	if (svc == SIM_SVC_CONTROL || svc == SIM_SVC_IMDS)
		evbuffer_add(r->body, "\n", 1);
	free(text);
	json_decref(doc);
}

void sim_reply_text(struct sim_reply *r, int status, const char *text)
{
	evbuffer_drain(r->body, evbuffer_get_length(r->body));
	r->status = status;
	snprintf(r->content_type, sizeof(r->content_type), "text/plain");
	evbuffer_add_printf(r->body, "%s", text);
}

void sim_reply_header(struct sim_reply *r, const char *name, const char *value)
{
	if (r->n_extra >= sizeof(r->extra) / sizeof(r->extra[0]))
		return;
	snprintf(r->extra[r->n_extra].name, sizeof(r->extra[0].name), "%s", name);
	snprintf(r->extra[r->n_extra].value, sizeof(r->extra[0].value), "%s", value);
	r->n_extra++;
}
