/*
 * The command groups of `cbqd admin` (internal to broker/admin): each gets
 * argv from its group word on ("team", "add", "alpha", ...) and returns the
 * exit code. admin_teams.c: team, account, admin; admin_blocks.c: block;
 * admin_policy.c: policy, quota.
 */
#ifndef CBQ_ADMIN_GROUPS_H
#define CBQ_ADMIN_GROUPS_H

#include "admin/cli.h"

int admin_team_main(struct admin_ctx *ctx, int argc, char **argv);
int admin_account_main(struct admin_ctx *ctx, int argc, char **argv);
int admin_admin_main(struct admin_ctx *ctx, int argc, char **argv);
int admin_block_main(struct admin_ctx *ctx, int argc, char **argv);
int admin_policy_main(struct admin_ctx *ctx, int argc, char **argv);
int admin_quota_main(struct admin_ctx *ctx, int argc, char **argv);

#endif
