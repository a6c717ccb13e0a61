/*
 * How EC2 shows instances and reservations in XML (RunInstances and
 * DescribeInstances replies): state, placement, tags, the Capacity Block
 * target, state reasons. Rendering only; ec2_instances.c decides what to show.
 */
#include <stdio.h>
#include <string.h>

#include "ec2_common.h"

void sim_ec2_state_xml(struct sim_reply *r, const char *tag, enum sim_istate s)
{
	sim_xml_open(r, tag);
	sim_xml_int(r, "code", sim_istate_code(s));
	sim_xml_text(r, "name", sim_istate_name(s));
	sim_xml_close(r, tag);
}

static void render_instance(const struct sim_world *w, const struct sim_instance *in, cbq_ms now,
			    struct sim_reply *r)
{
	const struct sim_block *blk = &w->sc->blocks[in->block];
	const struct sim_reservation *rv = &w->resv[in->resv];
	enum sim_istate s = sim_instance_state(w, in, now);
	unsigned a, b, c, d;

	sim_xml_open(r, "item");
	sim_xml_text(r, "instanceId", in->id);
	sim_xml_text(r, "imageId", in->image_id);
	sim_ec2_state_xml(r, "instanceState", s);
	if (sscanf(in->private_ip, "%u.%u.%u.%u", &a, &b, &c, &d) == 4)
		sim_xml_textf(r, "privateDnsName", "ip-%u-%u-%u-%u.ec2.internal", a, b, c, d);
	sim_xml_empty(r, "dnsName");
	if (s == SIM_SHUTTING_DOWN || s == SIM_TERMINATED) {
		char when[SIM_TIME_SIZE];
		bool user = sim_instance_reason(w, in) == SIM_END_USER;
		sim_time_iso(sim_instance_end(w, in), when);
		when[10] = ' ';
		when[19] = '\0';
		sim_xml_textf(r, "reason", "%s initiated (%s GMT)", user ? "User" : "Server", when);
	} else {
		sim_xml_empty(r, "reason");
	}
	sim_xml_int(r, "amiLaunchIndex", in->launch_index);
	sim_xml_empty(r, "productCodes");
	sim_xml_text(r, "instanceType", blk->instance_type);
	sim_xml_time(r, "launchTime", in->launch);
	sim_xml_open(r, "placement");
	sim_xml_text(r, "availabilityZone", blk->az);
	sim_xml_empty(r, "groupName");
	sim_xml_text(r, "tenancy", "default");
	sim_xml_close(r, "placement");
	sim_xml_open(r, "monitoring");
	sim_xml_text(r, "state", "disabled");
	sim_xml_close(r, "monitoring");
	if (in->subnet[0])
		sim_xml_text(r, "subnetId", in->subnet);
	sim_xml_text(r, "privateIpAddress", in->private_ip);
	sim_xml_bool(r, "sourceDestCheck", true);
	sim_xml_empty(r, "groupSet");
	if (s == SIM_PENDING) {
		sim_xml_open(r, "stateReason");
		sim_xml_text(r, "code", "pending");
		sim_xml_text(r, "message", "pending");
		sim_xml_close(r, "stateReason");
	} else if (s != SIM_RUNNING) {
		bool user = sim_instance_reason(w, in) == SIM_END_USER;
		sim_xml_open(r, "stateReason");
		/* EC2 names no code for the end of a Capacity Block; this is the
		 * closest documented one (our choice, see README). */
		sim_xml_text(r, "code",
			     user ? "Client.UserInitiatedShutdown" : "Server.ScheduledStop");
		sim_xml_text(r, "message",
			     user ? "Client.UserInitiatedShutdown: User initiated shutdown" :
				    "Server.ScheduledStop: The Capacity Block reservation is ending");
		sim_xml_close(r, "stateReason");
	}
	sim_xml_text(r, "architecture", "x86_64");
	sim_xml_text(r, "rootDeviceType", "ebs");
	sim_xml_text(r, "rootDeviceName", "/dev/xvda");
	sim_xml_empty(r, "blockDeviceMapping");
	sim_xml_text(r, "virtualizationType", "hvm");
	if (rv->client_token[0])
		sim_xml_text(r, "clientToken", rv->client_token);
	else
		sim_xml_empty(r, "clientToken");
	sim_xml_open(r, "tagSet");
	for (size_t i = 0; i < in->n_tags; i++) {
		sim_xml_open(r, "item");
		sim_xml_text(r, "key", in->tags[i].key);
		sim_xml_text(r, "value", in->tags[i].value);
		sim_xml_close(r, "item");
	}
	sim_xml_close(r, "tagSet");
	sim_xml_text(r, "hypervisor", "xen");
	sim_xml_bool(r, "ebsOptimized", true);
	sim_xml_bool(r, "enaSupport", true);
	sim_xml_text(r, "instanceLifecycle", "capacity-block");
	sim_xml_text(r, "capacityReservationId", blk->id);
	sim_xml_textf(r, "capacityBlockId", "cb-%s", blk->id + 3);
	sim_xml_open(r, "capacityReservationSpecification");
	sim_xml_text(r, "capacityReservationPreference", "capacity-reservations-only");
	sim_xml_open(r, "capacityReservationTarget");
	sim_xml_text(r, "capacityReservationId", blk->id);
	sim_xml_close(r, "capacityReservationTarget");
	sim_xml_close(r, "capacityReservationSpecification");
	sim_xml_text(r, "platformDetails", blk->platform);
	sim_xml_close(r, "item");
}

/* <reservationId/><ownerId/><groupSet/><instancesSet>…; with filter, only
 * the instances it selects (mask over the reservation's instances). */
void sim_ec2_render_reservation(const struct sim_world *w, size_t rv_i, const bool *mask,
				cbq_ms now, struct sim_reply *r)
{
	const struct sim_reservation *rv = &w->resv[rv_i];

	sim_xml_text(r, "reservationId", rv->id);
	sim_xml_text(r, "ownerId", rv->account);
	sim_xml_empty(r, "groupSet");
	sim_xml_open(r, "instancesSet");
	for (size_t k = 0; k < rv->n; k++)
		if (!mask || mask[k])
			render_instance(w, &w->inst[rv->first + k], now, r);
	sim_xml_close(r, "instancesSet");
}
